//! The tables a delta may change, their columns and how each is checked.
//!
//! The key of every table is its first `key_len` columns, so a delete's key
//! and an upsert's row land in the same staging columns (`c1`, `c2`, ...).

/// What values a column accepts, and the Postgres type it is cast to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Any string.
    Text,
    /// A string with at least one non-blank character (identifiers).
    Id,
    /// A plan id: an upsert's must be one the site can publish
    /// (`whatever_database::rules::plan_id`); a delete may name any id, so
    /// a row that predates the rule can still be removed.
    PlanId,
    /// `active` or `inactive`.
    Status,
    /// Dollars: a non-negative JSON number with at most 2 decimals, < 10^8.
    Money,
    /// A whole number of years, 0 to 150.
    Age,
    /// A JSON integer that fits a bigint.
    BigInt,
    /// A `YYYY-MM-DD` calendar date.
    Date,
    /// Five ASCII digits, as a string (a number would lose leading zeros).
    Zip,
    /// A USPS state code (`whatever_database::rules::states`).
    State,
    /// A JSON `true` or `false`.
    Bool,
    /// An RxNorm concept id: 1 to 10 ASCII digits, as a string.
    Rxcui,
    /// A formulary tier, 1 to 6.
    Tier,
    /// A days supply: 30 or 90.
    DaysSupply,
    /// `preferred_retail`, `standard_retail` or `mail`.
    Pharmacy,
    /// `copay` or `coinsurance`.
    CostType,
    /// A whole number of days, 1 to 3660.
    Days,
    /// A benefit year, 2006 to 2100.
    Year,
}

impl Kind {
    /// The Postgres type the staged text is cast to.
    pub fn sql_type(self) -> &'static str {
        match self {
            Kind::Text
            | Kind::Id
            | Kind::PlanId
            | Kind::Status
            | Kind::Zip
            | Kind::Rxcui
            | Kind::Pharmacy
            | Kind::CostType => "text",
            Kind::Money => "numeric(10,2)",
            Kind::Age => "int",
            Kind::BigInt => "bigint",
            Kind::Date => "date",
            Kind::State => "char(2)",
            Kind::Bool => "boolean",
            Kind::Tier | Kind::DaysSupply => "smallint",
            Kind::Days | Kind::Year => "int",
        }
    }
}

/// One column of a synced table.
#[derive(Debug, Clone, Copy)]
pub struct Column {
    /// Its name in the database and in the delta.
    pub name: &'static str,
    /// What it accepts.
    pub kind: Kind,
    /// Whether JSON `null` is accepted.
    pub nullable: bool,
    /// Personal data: error messages describe such a value, never show it.
    pub sensitive: bool,
    /// Added after the delta format was fixed: an upserted row may leave it
    /// out, which means null (older feeds keep working).
    pub optional: bool,
}

/// A foreign key from a synced table to another.
#[derive(Debug, Clone, Copy)]
pub struct Parent {
    /// The referenced table (its key is one column).
    pub table: &'static str,
    /// The referencing column in the child.
    pub column: &'static str,
    /// Whether deleting the parent deletes the children (`ON DELETE CASCADE`).
    pub cascade: bool,
}

/// A table a delta may change.
#[derive(Debug, Clone, Copy)]
pub struct Table {
    /// Its name.
    pub name: &'static str,
    /// Every column, key first.
    pub columns: &'static [Column],
    /// How many leading columns form the key.
    pub key_len: usize,
    /// The tables its rows must point at.
    pub parents: &'static [Parent],
}

impl Table {
    /// The key columns.
    pub fn key(&self) -> &'static [Column] {
        &self.columns[..self.key_len]
    }

    /// The columns the API and the site build find rows by: the key, the
    /// references to parents, and statuses, zip codes and dates. A sync
    /// refreshes the statistics of these at once (see `analyze_changed` in
    /// the sync module); autovacuum gets to the rest.
    pub fn lookup_columns(&self) -> Vec<&'static str> {
        self.columns
            .iter()
            .enumerate()
            .filter(|(i, c)| {
                *i < self.key_len
                    || self.parents.iter().any(|p| p.column == c.name)
                    || matches!(c.kind, Kind::Status | Kind::Zip | Kind::Date)
            })
            .map(|(_, c)| c.name)
            .collect()
    }

    /// The column called `name`, with its position.
    pub fn column(&self, name: &str) -> Option<(usize, &'static Column)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, c)| c.name == name)
    }
}

const fn col(name: &'static str, kind: Kind, nullable: bool) -> Column {
    Column {
        name,
        kind,
        nullable,
        sensitive: false,
        optional: false,
    }
}

/// A nullable column that an upsert may leave out (see [`Column::optional`]).
const fn optional(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: true,
        sensitive: false,
        optional: true,
    }
}

const fn personal(name: &'static str, kind: Kind) -> Column {
    Column {
        name,
        kind,
        nullable: true,
        sensitive: true,
        optional: false,
    }
}

/// Most columns any table has: the width of the staging table.
pub const MAX_COLUMNS: usize = 11;

/// Every table a delta may change, parents before children. `"user"` is not
/// here on purpose: accounts belong to the auth-api, not to the data feed.
pub const TABLES: &[Table] = &[
    Table {
        name: "formulary",
        columns: &[col("formulary_id", Kind::Id, false)],
        key_len: 1,
        parents: &[],
    },
    Table {
        name: "drug",
        columns: &[
            col("rxcui", Kind::Rxcui, false),
            col("name", Kind::Id, false),
            col("generic_name", Kind::Id, false),
            col("strength", Kind::Text, false),
            col("dose_form", Kind::Text, false),
            col("is_generic", Kind::Bool, false),
            col("is_insulin", Kind::Bool, false),
        ],
        key_len: 1,
        parents: &[],
    },
    Table {
        name: "plan",
        columns: &[
            col("plan_id", Kind::PlanId, false),
            col("plan_name", Kind::Text, false),
            col("insurer_name", Kind::Text, false),
            col("status", Kind::Status, false),
            col("description", Kind::Text, true),
            col("avg_monthly_cost", Kind::Money, false),
            col("avg_copay_amount", Kind::Money, false),
            col("annual_deductible", Kind::Money, false),
            col("min_age", Kind::Age, true),
            col("max_age", Kind::Age, true),
            optional("formulary_id", Kind::Id),
        ],
        key_len: 1,
        // V20 declares this key ON DELETE SET NULL; a delta is stricter and
        // refuses to delete a formulary that plans still name (a plan losing
        // its drug coverage should be an explicit change).
        parents: &[Parent {
            table: "formulary",
            column: "formulary_id",
            cascade: false,
        }],
    },
    Table {
        name: "beneficiary",
        columns: &[
            col("beneficiary_id", Kind::BigInt, false),
            personal("fname", Kind::Text),
            personal("lname", Kind::Text),
            personal("sex", Kind::Text),
            personal("ssn", Kind::Text),
            personal("birthdate", Kind::Date),
            personal("address", Kind::Text),
            personal("city", Kind::Text),
            personal("state", Kind::State),
            personal("zip_code", Kind::Zip),
        ],
        key_len: 1,
        parents: &[],
    },
    Table {
        name: "plan_feature",
        columns: &[
            col("plan_id", Kind::PlanId, false),
            col("feature_key", Kind::Id, false),
            col("feature_value", Kind::Text, true),
        ],
        key_len: 2,
        parents: &[Parent {
            table: "plan",
            column: "plan_id",
            cascade: true,
        }],
    },
    Table {
        name: "plan_to_zip",
        columns: &[
            col("plan_id", Kind::PlanId, false),
            col("zip_code", Kind::Zip, false),
        ],
        key_len: 2,
        parents: &[Parent {
            table: "plan",
            column: "plan_id",
            cascade: true,
        }],
    },
    Table {
        name: "beneficiary_to_plan",
        columns: &[
            col("beneficiary_id", Kind::BigInt, false),
            col("plan_id", Kind::PlanId, false),
            col("start_date", Kind::Date, false),
            col("end_date", Kind::Date, true),
        ],
        key_len: 3,
        parents: &[
            Parent {
                table: "beneficiary",
                column: "beneficiary_id",
                cascade: true,
            },
            // V2 declares this key without ON DELETE: a plan someone is
            // enrolled in cannot be deleted.
            Parent {
                table: "plan",
                column: "plan_id",
                cascade: false,
            },
        ],
    },
    Table {
        name: "formulary_drug",
        columns: &[
            col("formulary_id", Kind::Id, false),
            col("rxcui", Kind::Rxcui, false),
            col("tier", Kind::Tier, false),
            col("prior_authorization", Kind::Bool, false),
            col("step_therapy", Kind::Bool, false),
            col("quantity_limit_amount", Kind::Money, true),
            col("quantity_limit_days", Kind::Days, true),
        ],
        key_len: 2,
        parents: &[
            Parent {
                table: "formulary",
                column: "formulary_id",
                cascade: true,
            },
            Parent {
                table: "drug",
                column: "rxcui",
                cascade: true,
            },
        ],
    },
    Table {
        name: "plan_tier_cost",
        columns: &[
            col("plan_id", Kind::PlanId, false),
            col("tier", Kind::Tier, false),
            col("pharmacy", Kind::Pharmacy, false),
            col("days_supply", Kind::DaysSupply, false),
            col("cost_type", Kind::CostType, false),
            col("amount", Kind::Money, false),
            col("deductible_applies", Kind::Bool, false),
        ],
        key_len: 4,
        parents: &[Parent {
            table: "plan",
            column: "plan_id",
            cascade: true,
        }],
    },
    Table {
        name: "drug_price",
        columns: &[
            col("rxcui", Kind::Rxcui, false),
            col("days_supply", Kind::DaysSupply, false),
            col("full_cost", Kind::Money, false),
        ],
        key_len: 2,
        parents: &[Parent {
            table: "drug",
            column: "rxcui",
            cascade: true,
        }],
    },
    Table {
        name: "benefit_year",
        columns: &[
            col("year", Kind::Year, false),
            col("deductible_cap", Kind::Money, false),
            col("oop_threshold", Kind::Money, false),
            col("insulin_monthly_cap", Kind::Money, false),
        ],
        key_len: 1,
        parents: &[],
    },
];

/// The table called `name`.
pub fn table(name: &str) -> Option<&'static Table> {
    TABLES.iter().find(|t| t.name == name)
}

/// Whether deleting a row of some parent deletes rows of `t`: such tables
/// are applied after the others (see the sync's apply).
pub fn has_cascading_parent(t: &Table) -> bool {
    t.parents.iter().any(|p| p.cascade)
}

/// The tables that are some table's parent (their key is one column).
pub fn parent_tables() -> impl Iterator<Item = &'static Table> {
    TABLES.iter().filter(|t| {
        TABLES
            .iter()
            .any(|c| c.parents.iter().any(|p| p.table == t.name))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_table_fits_the_staging_table_and_has_a_key() {
        for t in TABLES {
            assert!(t.columns.len() <= MAX_COLUMNS, "{}", t.name);
            assert!(t.key_len >= 1 && t.key_len <= t.columns.len(), "{}", t.name);
            assert!(t.key().iter().all(|c| !c.nullable), "{}", t.name);
        }
    }

    #[test]
    fn parents_are_single_column_keys_listed_before_their_children() {
        for (i, t) in TABLES.iter().enumerate() {
            for p in t.parents {
                let pos = TABLES.iter().position(|x| x.name == p.table).unwrap();
                assert!(pos < i, "{} before {}", p.table, t.name);
                assert_eq!(TABLES[pos].key_len, 1);
                assert!(t.column(p.column).is_some());
            }
        }
        let parents: Vec<_> = parent_tables().map(|t| t.name).collect();
        assert_eq!(parents, ["formulary", "drug", "plan", "beneficiary"]);
    }

    #[test]
    fn lookup_columns_are_keys_references_statuses_zips_and_dates() {
        let of = |t: &str| table(t).unwrap().lookup_columns();
        assert_eq!(of("plan"), ["plan_id", "status", "formulary_id"]);
        assert_eq!(of("formulary_drug"), ["formulary_id", "rxcui"]);
        assert_eq!(
            of("plan_tier_cost"),
            ["plan_id", "tier", "pharmacy", "days_supply"]
        );
        assert_eq!(of("plan_feature"), ["plan_id", "feature_key"]);
        assert_eq!(of("plan_to_zip"), ["plan_id", "zip_code"]);
        assert_eq!(
            of("beneficiary"),
            ["beneficiary_id", "birthdate", "zip_code"]
        );
        assert_eq!(
            of("beneficiary_to_plan"),
            ["beneficiary_id", "plan_id", "start_date", "end_date"]
        );
    }

    #[test]
    fn the_user_table_is_not_synced() {
        assert!(table("user").is_none());
        assert!(table("plan_to_zip").is_some());
    }
}
