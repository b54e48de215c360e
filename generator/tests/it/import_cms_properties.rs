//! A valid set of CMS files with one data line mutated (a field given
//! another value, the line cut short, doubled, blanked, or given an extra
//! field) is either refused naming exactly the lines the layout does not
//! allow, with every table as it was, or it is valid and the tables then
//! hold exactly what the files say. Both are worked out here, by a model
//! written from the mapping in `docs/drug-data.md`, not by asking the code
//! under test.
//!
//! Fixed seed, 64 cases by default; `PROPTEST_CASES=5000` runs more.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::sync::atomic::{AtomicU32, Ordering};

use generator::Error;
use generator::import_cms::{ImportOptions, import};
use proptest::prelude::*;
use proptest::sample::Index;
use proptest::test_runner::TestCaseError;
use whatever_test_db::TestDatabase;

// ---- the valid files -----------------------------------------------------------

/// File name, header, data lines.
const FILES: &[(&str, &str, &[&str])] = &[
    (
        "drug names.txt",
        "RXCUI|NDC|DRUG_NAME|GENERIC_NAME|STRENGTH|DOSE_FORM|GENERIC_YN|INSULIN_YN",
        &[
            "197361|00093717101|Amlodipine|amlodipine|5 MG|Oral Tablet|Y|N",
            "617314|00071015523|Lipitor|atorvastatin|10 MG|Oral Tablet|N|N",
            "311041||Lantus|insulin glargine|100 UNT/ML|Injectable Solution|N|Y",
        ],
    ),
    (
        "basic drugs formulary file  PPUF_2026Q1.txt",
        "FORMULARY_ID|FORMULARY_VERSION|CONTRACT_YEAR|RXCUI|NDC|TIER_LEVEL_VALUE|QUANTITY_LIMIT_YN|QUANTITY_LIMIT_AMOUNT|QUANTITY_LIMIT_DAYS|PRIOR_AUTHORIZATION_YN|STEP_THERAPY_YN",
        &[
            "00026001|1|2026|197361|00093717101|1|N|||N|N",
            "00026001|1|2026|617314|00071015523|4|Y|30|30|Y|N",
            "00026001|1|2026|617314|00071015599|4|Y|30|30|Y|N",
            "00026002|1|2026|311041|00088221905|3|N|||N|Y",
        ],
    ),
    (
        "plan information file  PPUF_2026Q1.txt",
        "CONTRACT_ID|PLAN_ID|SEGMENT_ID|PLAN_NAME|FORMULARY_ID|PREMIUM",
        &[
            "S5601|012|000|Acme Rx|00026001|35.10",
            "H1234|001|001|Beta Care|00026002|0",
            "H1234|001|001|Beta Care|00026002|0",
        ],
    ),
    (
        "beneficiary cost file  PPUF_2026Q1.txt",
        "CONTRACT_ID|PLAN_ID|SEGMENT_ID|COVERAGE_LEVEL|TIER|DAYS_SUPPLY|COST_TYPE_PREF|COST_AMT_PREF|COST_TYPE_NONPREF|COST_AMT_NONPREF|COST_TYPE_MAIL_PREF|COST_AMT_MAIL_PREF|COST_TYPE_MAIL_NONPREF|COST_AMT_MAIL_NONPREF|TIER_SPECIALTY_YN|DED_APPLIES_YN",
        &[
            "S5601|012|000|1|1|1|1|0|1|5|1|0|0||N|N",
            "S5601|012|000|1|4|1|2|0.25|2|0.3|0||0||N|Y",
            "S5601|012|000|1|1|2|1|0|1|15.50|1|0|0||N|N",
            "S5601|012|000|3|1|1|1|0|1|0|1|0|0||N|N",
            "H1234|001|001|1|3|1|1|47|1|47|1|94|0||N|Y",
        ],
    ),
    (
        "pricing file  PPUF_2026Q1.txt",
        "CONTRACT_ID|PLAN_ID|SEGMENT_ID|NDC|DAYS_SUPPLY|UNIT_COST",
        &[
            "S5601|012|000|00093717101|30|0.1366667",
            "H1234|001|001|00093717101|30|0.15",
            "S5601|012|000|00071015523|30|7.08",
            "S5601|012|000|00071015599|90|7.0",
            "H1234|001|001|00088221905|30|9.711",
            "S5601|012|000|00093717101|60|0.1",
        ],
    ),
];

/// Plans in the database (the import never creates one).
const PLANS: &[&str] = &["S5601-012-0", "S5601-013-0", "H1234-001-1"];

// ---- the model -------------------------------------------------------------------

/// A row as text per column (`None` = NULL), as Postgres prints it.
type Row = Vec<Option<String>>;

/// The tables the import writes, as sorted rows.
type Tables = BTreeMap<&'static str, BTreeSet<Row>>;

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

fn number(s: &str, min: u32, max: u32) -> Option<u32> {
    s.parse::<u32>()
        .ok()
        .filter(|n| digits(s) && (min..=max).contains(n))
}

fn yes_no(s: &str) -> Option<bool> {
    match s {
        "Y" => Some(true),
        "N" => Some(false),
        _ => None,
    }
}

/// Non-negative decimal with at most `scale` decimals and 15 whole digits,
/// in 10^-scale.
fn decimal(s: &str, scale: u32) -> Option<i128> {
    let (w, f) = s.split_once('.').unwrap_or((s, ""));
    let ok = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if w.is_empty() && f.is_empty() || w.len() > 15 || f.len() > scale as usize || !ok(w) || !ok(f)
    {
        return None;
    }
    let padded = format!("{f:0<width$}", width = scale as usize);
    format!("{}{padded}", if w.is_empty() { "0" } else { w })
        .parse()
        .ok()
}

fn money(hundredths: i128) -> String {
    format!("{}.{:02}", hundredths / 100, hundredths % 100)
}

fn id_ok(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn plan_id(c: &str, p: &str, s: &str) -> Option<String> {
    let cb = c.as_bytes();
    let contract = cb.len() == 5 && cb[0].is_ascii_uppercase() && digits(&c[1..]);
    (contract && p.len() == 3 && digits(p) && (1..=3).contains(&s.len()) && digits(s))
        .then(|| format!("{c}-{p}-{}", s.parse::<u32>().unwrap()))
}

fn rxcui(s: &str) -> Option<String> {
    (digits(s) && s.len() <= 10).then(|| s.parse::<u64>().unwrap().to_string())
}

fn ndc(s: &str) -> Option<String> {
    (s.len() == 11 && digits(s)).then(|| s.to_string())
}

/// What the model makes of the files: the problem lines, or the tables.
#[derive(Default)]
struct Model {
    problems: Vec<(usize, u64)>,
    drugs: BTreeMap<String, Row>,
    ndcs: HashMap<String, String>,
    formularies: BTreeSet<String>,
    placements: BTreeMap<(String, String), Row>,
    formulary_ndcs: BTreeSet<(String, String)>,
    plans: BTreeMap<String, (u64, Option<String>)>,
    costs: BTreeSet<(String, u32, u32, u32)>,
    cost_rows: BTreeSet<Row>,
    priced: BTreeSet<(String, String, u32)>,
    prices: BTreeMap<(String, u32), Vec<i128>>,
}

impl Model {
    /// Whether data line `v` (trimmed fields by header name) of file `f`
    /// is valid; if so, its effects are recorded.
    fn line(&mut self, f: usize, v: &HashMap<&str, &str>) -> bool {
        self.try_line(f, v).is_some()
    }

    fn try_line(&mut self, f: usize, v: &HashMap<&str, &str>) -> Option<()> {
        match f {
            0 => {
                let r = rxcui(v["RXCUI"])?;
                let n = match v["NDC"] {
                    "" => None,
                    s => Some(ndc(s)?),
                };
                let text = |c: &str| (!v[c].contains('\0')).then(|| v[c].to_string());
                let name = text("DRUG_NAME").filter(|s| !s.trim().is_empty())?;
                let generic = text("GENERIC_NAME").filter(|s| !s.trim().is_empty())?;
                let strength = text("STRENGTH")?;
                let form = text("DOSE_FORM")?;
                let g = yes_no(v["GENERIC_YN"])?;
                let i = yes_no(v["INSULIN_YN"])?;
                if self.drugs.contains_key(&r)
                    || n.as_ref().is_some_and(|n| self.ndcs.contains_key(n))
                {
                    return None;
                }
                if let Some(n) = n {
                    self.ndcs.insert(n, r.clone());
                }
                let row = vec![
                    r.clone(),
                    name,
                    generic,
                    strength,
                    form,
                    g.to_string(),
                    i.to_string(),
                ];
                self.drugs.insert(r, row.into_iter().map(Some).collect());
            }
            1 => {
                let id = v["FORMULARY_ID"];
                let r = rxcui(v["RXCUI"]).filter(|_| id_ok(id))?;
                if !self.drugs.contains_key(&r) {
                    return None;
                }
                let n = ndc(v["NDC"])?;
                let tier = number(v["TIER_LEVEL_VALUE"], 1, 6)?;
                let (amount, days) = match yes_no(v["QUANTITY_LIMIT_YN"])? {
                    true => {
                        let a = decimal(v["QUANTITY_LIMIT_AMOUNT"], 2)
                            .filter(|a| *a > 0 && *a < 10_000_000_000)?;
                        let d = number(v["QUANTITY_LIMIT_DAYS"], 1, 3660)?;
                        (Some(money(a)), Some(d.to_string()))
                    }
                    false => {
                        if !v["QUANTITY_LIMIT_AMOUNT"].is_empty()
                            || !v["QUANTITY_LIMIT_DAYS"].is_empty()
                        {
                            return None;
                        }
                        (None, None)
                    }
                };
                let pa = yes_no(v["PRIOR_AUTHORIZATION_YN"])?;
                let st = yes_no(v["STEP_THERAPY_YN"])?;
                let row: Row = vec![
                    Some(id.to_string()),
                    Some(r.clone()),
                    Some(tier.to_string()),
                    Some(pa.to_string()),
                    Some(st.to_string()),
                    amount,
                    days,
                ];
                let key = (id.to_string(), r.clone());
                if self.formulary_ndcs.contains(&(id.to_string(), n.clone()))
                    || self
                        .placements
                        .get(&key)
                        .is_some_and(|earlier| *earlier != row)
                    || self.ndcs.get(&n).is_some_and(|other| *other != r)
                {
                    return None;
                }
                self.ndcs.insert(n.clone(), r);
                self.formularies.insert(id.to_string());
                self.formulary_ndcs.insert((id.to_string(), n));
                self.placements.entry(key).or_insert(row);
            }
            2 => {
                let p = plan_id(v["CONTRACT_ID"], v["PLAN_ID"], v["SEGMENT_ID"])?;
                let formulary = match v["FORMULARY_ID"] {
                    "" => None,
                    id if id_ok(id) && self.formularies.contains(id) => Some(id.to_string()),
                    _ => return None,
                };
                match self.plans.get(&p) {
                    Some((_, earlier)) if *earlier != formulary => return None,
                    Some(_) => {}
                    None => {
                        self.plans
                            .insert(p, (v["_line"].parse().unwrap(), formulary));
                    }
                }
            }
            3 => {
                let p = plan_id(v["CONTRACT_ID"], v["PLAN_ID"], v["SEGMENT_ID"])
                    .filter(|p| self.plans.contains_key(p))?;
                let level = number(v["COVERAGE_LEVEL"], 0, 3)?;
                let tier = number(v["TIER"], 1, 6)?;
                let days = number(v["DAYS_SUPPLY"], 1, 4)?;
                let mut shares = Vec::new();
                for (pharmacy, name) in [
                    ("PREF", "preferred_retail"),
                    ("NONPREF", "standard_retail"),
                    ("MAIL_PREF", "mail"),
                ] {
                    let amount = v[format!("COST_AMT_{pharmacy}").as_str()];
                    match number(v[format!("COST_TYPE_{pharmacy}").as_str()], 0, 2)? {
                        0 => {}
                        1 => {
                            let a = decimal(amount, 2).filter(|a| *a < 10_000_000_000)?;
                            shares.push((name, "copay", money(a)));
                        }
                        _ => {
                            // A fraction to 4 decimals is a percent to 2.
                            let a = decimal(amount, 4).filter(|a| *a <= 10_000)?;
                            shares.push((name, "coinsurance", money(a)));
                        }
                    }
                }
                let deductible = yes_no(v["DED_APPLIES_YN"])?;
                if !self.costs.insert((p.clone(), level, tier, days)) {
                    return None;
                }
                if level == 1 && days <= 2 {
                    let days = if days == 1 { "30" } else { "90" };
                    for (pharmacy, kind, amount) in shares {
                        let (tier, deductible) = (tier.to_string(), deductible.to_string());
                        let cells: [&str; 7] =
                            [&p, &tier, pharmacy, days, kind, &amount, &deductible];
                        self.cost_rows
                            .insert(cells.iter().map(|s| Some(s.to_string())).collect());
                    }
                }
            }
            _ => {
                let p = plan_id(v["CONTRACT_ID"], v["PLAN_ID"], v["SEGMENT_ID"])
                    .filter(|p| self.plans.contains_key(p))?;
                let n = ndc(v["NDC"])?;
                let r = self.ndcs.get(&n)?.clone();
                let days = number(v["DAYS_SUPPLY"], 1, 999)?;
                let unit = decimal(v["UNIT_COST"], 9).filter(|u| *u < 100_000_000_000_000_000)?;
                // Nanodollars × days, to the cent, half up.
                let cents = (unit * days as i128 + 5_000_000) / 10_000_000;
                if cents >= 10_000_000_000 || !self.priced.insert((p, n, days)) {
                    return None;
                }
                if days == 30 || days == 90 {
                    self.prices.entry((r, days)).or_default().push(cents);
                }
            }
        }
        Some(())
    }

    /// The problem lines of `files` (per file, 1-based line numbers) and,
    /// if there are none, the tables.
    fn run(files: &[Vec<Vec<u8>>]) -> Result<Tables, Vec<(usize, u64)>> {
        let mut m = Model::default();
        for (f, lines) in files.iter().enumerate() {
            let header: Vec<&str> = FILES[f].1.split('|').collect();
            for (i, bytes) in lines.iter().enumerate() {
                let number = i as u64 + 2;
                let Ok(text) = std::str::from_utf8(bytes) else {
                    m.problems.push((f, number));
                    continue;
                };
                if text.trim().is_empty() {
                    continue;
                }
                let fields: Vec<&str> = text.split('|').collect();
                if fields.len() != header.len() {
                    m.problems.push((f, number));
                    continue;
                }
                let line_text = number.to_string();
                let mut v: HashMap<&str, &str> = header
                    .iter()
                    .zip(&fields)
                    .map(|(h, x)| (*h, x.trim_matches([' ', '\t'])))
                    .collect();
                v.insert("_line", &line_text);
                if !m.line(f, &v) {
                    m.problems.push((f, number));
                }
            }
        }
        if !m.problems.is_empty() {
            return Err(m.problems);
        }
        let unknown: Vec<(usize, u64)> = m
            .plans
            .iter()
            .filter(|(p, _)| !PLANS.contains(&p.as_str()))
            .map(|(_, (line, _))| (2, *line))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        if !unknown.is_empty() {
            return Err(unknown);
        }
        let mut t = Tables::new();
        t.insert("drug", m.drugs.into_values().collect());
        t.insert(
            "formulary",
            m.formularies
                .iter()
                .map(|f| vec![Some(f.clone())])
                .collect(),
        );
        t.insert("formulary_drug", m.placements.into_values().collect());
        t.insert(
            "plan",
            PLANS
                .iter()
                .map(|p| {
                    let f = m.plans.get(*p).and_then(|(_, f)| f.clone());
                    vec![Some(p.to_string()), f]
                })
                .collect(),
        );
        t.insert("plan_tier_cost", m.cost_rows);
        t.insert(
            "drug_price",
            m.prices
                .into_iter()
                .map(|((r, days), mut list)| {
                    list.sort();
                    let price = list[(list.len() - 1) / 2];
                    vec![Some(r), Some(days.to_string()), Some(money(price))]
                })
                .collect(),
        );
        Ok(t)
    }
}

// ---- mutations -------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    /// One field given another value.
    Set(Index, &'static str),
    /// The line cut short at some byte.
    Truncate(Index),
    /// The line twice.
    Double,
    /// The line blank.
    Blank,
    /// A field more than the header.
    Extra,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    let values = prop::sample::select(vec![
        "",
        " ",
        "0",
        "1",
        "2",
        "3",
        "4",
        "5",
        "6",
        "7",
        "01",
        "+1",
        "-1",
        "Y",
        "N",
        "y",
        "X",
        "YES",
        "00026001",
        "00026002",
        "00026003",
        "bad id!",
        "197361",
        "617314",
        "311041",
        "0197361",
        "123",
        "12345678901",
        "00093717101",
        "00071015599",
        "00088221905",
        "99999999999",
        "0009371710",
        "0.25",
        "0.3",
        "1.5",
        "1.00001",
        "12.345",
        ".25",
        "1e2",
        "100000000",
        "99999999.99",
        "0.0000001",
        "30",
        "90",
        "60",
        "999",
        "1000",
        "3660",
        "3661",
        "S5601",
        "s5601",
        "S0001",
        "H1234",
        "012",
        "013",
        "12",
        "001",
        "000",
        "0000",
        "Zoë",
        "a\u{0}b",
        " 30 ",
        "\t4",
        "4294967296",
        "Amlodipine",
    ]);
    prop_oneof![
        8 => (any::<Index>(), values).prop_map(|(i, v)| Mutation::Set(i, v)),
        2 => any::<Index>().prop_map(Mutation::Truncate),
        1 => Just(Mutation::Double),
        1 => Just(Mutation::Blank),
        1 => Just(Mutation::Extra),
    ]
}

/// The valid files, each as its data lines.
fn valid_files() -> Vec<Vec<Vec<u8>>> {
    FILES
        .iter()
        .map(|(_, _, lines)| lines.iter().map(|l| l.as_bytes().to_vec()).collect())
        .collect()
}

/// The files with line `k` of file `f` mutated.
fn mutated(f: usize, k: usize, mutation: &Mutation) -> Vec<Vec<Vec<u8>>> {
    let mut files = valid_files();
    let line = FILES[f].2[k];
    match mutation {
        Mutation::Set(at, value) => {
            let mut fields: Vec<&str> = line.split('|').collect();
            let i = at.index(fields.len());
            fields[i] = value;
            files[f][k] = fields.join("|").into_bytes();
        }
        Mutation::Truncate(at) => files[f][k].truncate(at.index(line.len())),
        Mutation::Double => files[f].insert(k, line.as_bytes().to_vec()),
        Mutation::Blank => files[f][k] = Vec::new(),
        Mutation::Extra => files[f][k].extend_from_slice(b"|x"),
    }
    files
}

// ---- the database side -----------------------------------------------------------

/// Plans, and drug data the files do not have, so a valid import must
/// delete it.
async fn reset(client: &tokio_postgres::Client) {
    client
        .batch_execute(
            "UPDATE plan SET formulary_id = NULL;
             DELETE FROM formulary_drug; DELETE FROM plan_tier_cost; DELETE FROM drug_price;
             DELETE FROM formulary; DELETE FROM drug;
             INSERT INTO drug VALUES ('999', 'Old', 'old', '', '', true, false);
             INSERT INTO formulary VALUES ('F0');
             INSERT INTO formulary_drug VALUES ('F0', '999', 2, false, false, NULL, NULL);
             UPDATE plan SET formulary_id = 'F0' WHERE plan_id = 'S5601-013-0';
             INSERT INTO plan_tier_cost VALUES ('S5601-013-0', 1, 'mail', 30, 'copay', 1, false);
             INSERT INTO drug_price VALUES ('999', 30, 1.00);",
        )
        .await
        .unwrap();
}

const QUERIES: &[(&str, &str)] = &[
    (
        "drug",
        "SELECT rxcui, name, generic_name, strength, dose_form, is_generic::text, is_insulin::text FROM drug",
    ),
    ("formulary", "SELECT formulary_id FROM formulary"),
    (
        "formulary_drug",
        "SELECT formulary_id, rxcui, tier::text, prior_authorization::text, step_therapy::text, quantity_limit_amount::text, quantity_limit_days::text FROM formulary_drug",
    ),
    ("plan", "SELECT plan_id, formulary_id FROM plan"),
    (
        "plan_tier_cost",
        "SELECT plan_id, tier::text, pharmacy, days_supply::text, cost_type, amount::text, deductible_applies::text FROM plan_tier_cost",
    ),
    (
        "drug_price",
        "SELECT rxcui, days_supply::text, full_cost::text FROM drug_price",
    ),
];

async fn read_back(client: &tokio_postgres::Client) -> Tables {
    let mut t = Tables::new();
    for (table, sql) in QUERIES {
        let rows = client.query(*sql, &[]).await.unwrap();
        t.insert(
            table,
            rows.iter()
                .map(|r| {
                    (0..r.len())
                        .map(|i| r.get::<_, Option<String>>(i))
                        .collect()
                })
                .collect(),
        );
    }
    t
}

fn write_files(dir: &Path, files: &[Vec<Vec<u8>>]) {
    for ((name, header, _), lines) in FILES.iter().zip(files) {
        let mut text = format!("{header}\n").into_bytes();
        for l in lines {
            text.extend_from_slice(l);
            text.push(b'\n');
        }
        std::fs::write(dir.join(name), text).unwrap();
    }
}

#[test]
fn a_mutated_line_is_refused_by_its_file_and_line_or_imported_exactly() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let db = runtime.block_on(TestDatabase::new()).unwrap();
    let client = runtime.block_on(db.connect()).unwrap();
    runtime.block_on(async {
        for p in PLANS {
            client
                .execute(
                    "INSERT INTO plan (plan_id, plan_name, insurer_name, status, description,
                                       avg_monthly_cost, avg_copay_amount, annual_deductible)
                     VALUES ($1, 'A plan', 'Acme', 'active', NULL, 10, 5, 100)",
                    &[p],
                )
                .await
                .unwrap();
        }
    });

    // The unmutated files are valid and import what the model says.
    let base = valid_files();
    let expected = Model::run(&base).expect("the valid files are valid");
    assert_eq!(
        expected["drug_price"].len(),
        4,
        "{:?}",
        expected["drug_price"]
    );
    runtime.block_on(reset(&client));
    let dir = tempfile::tempdir().unwrap();
    write_files(dir.path(), &base);
    runtime
        .block_on(import(dir.path(), db.config(), &ImportOptions::default()))
        .expect("the valid files import");
    assert_eq!(runtime.block_on(read_back(&client)), expected);

    let (refused, applied) = (AtomicU32::new(0), AtomicU32::new(0));
    let target = (0..FILES.len()).prop_flat_map(|f| (Just(f), 0..FILES[f].2.len()));
    let strategy = (target, mutation());
    let result = load_harness::properties::runner().run(&strategy, |((f, k), mutation)| {
        let files = mutated(f, k, &mutation);
        let dir = tempfile::tempdir().unwrap();
        write_files(dir.path(), &files);
        let model = Model::run(&files);
        runtime.block_on(async {
            reset(&client).await;
            let before = read_back(&client).await;
            let outcome = import(dir.path(), db.config(), &ImportOptions::default()).await;
            match (outcome, model) {
                (
                    Err(Error::Import {
                        problems, total, ..
                    }),
                    Err(lines),
                ) => {
                    refused.fetch_add(1, Ordering::Relaxed);
                    let named: Vec<(String, u64)> =
                        problems.iter().map(|p| (p.file.clone(), p.line)).collect();
                    let wanted: Vec<(String, u64)> = lines
                        .iter()
                        .take(named.len().max(1))
                        .map(|(f, l)| (FILES[*f].0.to_string(), *l))
                        .collect();
                    prop_assert_eq!(&named, &wanted, "{:?}", problems);
                    prop_assert_eq!(total as usize, lines.len());
                    prop_assert_eq!(
                        read_back(&client).await,
                        before,
                        "a refused import changed the database"
                    );
                }
                (Ok(_), Ok(expected)) => {
                    applied.fetch_add(1, Ordering::Relaxed);
                    prop_assert_eq!(
                        read_back(&client).await,
                        expected,
                        "the tables after the import"
                    );
                }
                (outcome, model) => {
                    return Err(TestCaseError::fail(format!(
                        "{} line {} {:?}: import gave {:?}, the model {:?}",
                        FILES[f].0,
                        k + 2,
                        mutation,
                        outcome.map(|r| r.tables),
                        model.map(|_| "valid")
                    )));
                }
            }
            Ok(())
        })
    });
    if let Err(failure) = result {
        panic!("{failure}");
    }
    let (refused, applied) = (refused.into_inner(), applied.into_inner());
    eprintln!("{refused} mutated file sets refused, {applied} imported");
    assert!(refused > 0 && applied > 0, "both outcomes were exercised");
}
