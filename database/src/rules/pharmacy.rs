//! Where a prescription is filled and how many days a fill lasts: the two
//! choices a drug list makes per drug, and the keys of a plan's cost sharing
//! (`plan_tier_cost`, `drug_price`). `generator sync` and `import-cms` accept
//! only these, the site's JSON spells them so, and the drug-list page offers
//! them with the words and link letters given here.

/// Where a prescription is filled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Pharmacy {
    /// A retail pharmacy with the plan's preferred cost sharing.
    PreferredRetail,
    /// Any other network retail pharmacy.
    StandardRetail,
    /// Mail order.
    Mail,
}

impl Pharmacy {
    /// Every pharmacy type, in the order files list them and pages offer them.
    pub const ALL: [Pharmacy; 3] = [
        Pharmacy::PreferredRetail,
        Pharmacy::StandardRetail,
        Pharmacy::Mail,
    ];

    /// What a value must be, for error messages.
    pub const DESCRIPTION: &str = "\"preferred_retail\", \"standard_retail\" or \"mail\"";

    /// How the database and the JSON spell it.
    pub fn as_str(self) -> &'static str {
        match self {
            Pharmacy::PreferredRetail => "preferred_retail",
            Pharmacy::StandardRetail => "standard_retail",
            Pharmacy::Mail => "mail",
        }
    }

    /// The pharmacy type spelled `text` (exactly: no case folding).
    pub fn parse(text: &str) -> Option<Pharmacy> {
        Pharmacy::ALL.into_iter().find(|p| p.as_str() == text)
    }

    /// The letter a drug-list link writes for it (`9100003.30p`).
    pub fn link_code(self) -> char {
        match self {
            Pharmacy::PreferredRetail => 'p',
            Pharmacy::StandardRetail => 's',
            Pharmacy::Mail => 'm',
        }
    }

    /// Its name as a choice on the page: "Preferred retail pharmacy".
    pub fn label(self) -> &'static str {
        match self {
            Pharmacy::PreferredRetail => "Preferred retail pharmacy",
            Pharmacy::StandardRetail => "Standard retail pharmacy",
            Pharmacy::Mail => "Mail order",
        }
    }

    /// Its name inside a sentence: "no cost is published … by a preferred
    /// retail pharmacy".
    pub fn phrase(self) -> &'static str {
        match self {
            Pharmacy::PreferredRetail => "a preferred retail pharmacy",
            Pharmacy::StandardRetail => "a standard retail pharmacy",
            Pharmacy::Mail => "mail order",
        }
    }
}

/// How many days one fill lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DaysSupply {
    /// A fill every month.
    Thirty,
    /// A fill in the first month and every third month after.
    Ninety,
}

impl DaysSupply {
    /// Both supplies.
    pub const ALL: [DaysSupply; 2] = [DaysSupply::Thirty, DaysSupply::Ninety];

    /// What a value must be, for error messages.
    pub const DESCRIPTION: &str = "30 or 90";

    /// The number of days.
    pub fn days(self) -> i64 {
        match self {
            DaysSupply::Thirty => 30,
            DaysSupply::Ninety => 90,
        }
    }

    /// The supply of `days` days (30 or 90).
    pub fn from_days(days: i64) -> Option<DaysSupply> {
        DaysSupply::ALL.into_iter().find(|s| s.days() == days)
    }

    /// How often a fill happens, as a choice on the page.
    pub fn label(self) -> &'static str {
        match self {
            DaysSupply::Thirty => "Every month (30-day supply)",
            DaysSupply::Ninety => "Every 3 months (90-day supply)",
        }
    }

    /// How often a fill happens, inside a sentence: "every 3 months".
    pub fn short(self) -> &'static str {
        match self {
            DaysSupply::Thirty => "every month",
            DaysSupply::Ninety => "every 3 months",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct Table {
        pharmacies: Vec<PharmacyCase>,
        days_supplies: Vec<DaysCase>,
    }

    #[derive(serde::Deserialize)]
    struct PharmacyCase {
        text: String,
        pharmacy: bool,
        #[serde(default)]
        code: Option<char>,
        #[serde(default)]
        label: Option<String>,
        #[serde(default)]
        phrase: Option<String>,
    }

    #[derive(serde::Deserialize)]
    struct DaysCase {
        days: i64,
        supply: bool,
        #[serde(default)]
        label: Option<String>,
        #[serde(default)]
        short: Option<String>,
    }

    /// The shared table, also run in Postgres and in JavaScript.
    fn table() -> Table {
        serde_json::from_str(include_str!("../../../tests/rules/pharmacies.json"))
            .expect("tests/rules/pharmacies.json")
    }

    #[test]
    fn the_shared_pharmacy_cases_hold() {
        let cases = table().pharmacies;
        assert!(cases.len() > 10);
        for c in cases {
            let parsed = Pharmacy::parse(&c.text);
            assert_eq!(parsed.is_some(), c.pharmacy, "{:?}", c.text);
            if let Some(p) = parsed {
                assert_eq!(p.as_str(), c.text);
                assert_eq!(Some(p.link_code()), c.code, "{:?}", c.text);
                assert_eq!(Some(p.label()), c.label.as_deref(), "{:?}", c.text);
                assert_eq!(Some(p.phrase()), c.phrase.as_deref(), "{:?}", c.text);
            }
        }
    }

    #[test]
    fn the_shared_days_supply_cases_hold() {
        let cases = table().days_supplies;
        assert!(cases.len() > 10);
        for c in cases {
            let supply = DaysSupply::from_days(c.days);
            assert_eq!(supply.is_some(), c.supply, "{}", c.days);
            if let Some(s) = supply {
                assert_eq!(s.days(), c.days);
                assert_eq!(Some(s.label()), c.label.as_deref(), "{}", c.days);
                assert_eq!(Some(s.short()), c.short.as_deref(), "{}", c.days);
            }
        }
    }

    #[test]
    fn every_type_has_its_own_word_and_letter() {
        let words: std::collections::BTreeSet<_> = Pharmacy::ALL.map(Pharmacy::as_str).into();
        let codes: std::collections::BTreeSet<_> = Pharmacy::ALL.map(Pharmacy::link_code).into();
        assert_eq!((words.len(), codes.len()), (3, 3));
    }

    #[test]
    fn the_descriptions_name_every_value() {
        for p in Pharmacy::ALL {
            assert!(Pharmacy::DESCRIPTION.contains(&format!("\"{}\"", p.as_str())));
        }
        for s in DaysSupply::ALL {
            assert!(DaysSupply::DESCRIPTION.contains(&s.days().to_string()));
        }
    }
}
