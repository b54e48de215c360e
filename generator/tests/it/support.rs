//! Shared by the site tests: a small fixture builder: plans with features and zip codes,
//! inserted with plain SQL into a fresh test database.

use std::collections::BTreeMap;

use generator::site::SiteOptions;
use generator::site::sink::MemorySink;
use whatever_test_db::TestDatabase;

/// The enroll pattern the tests build with.
pub const ENROLL: &str = "https://enroll.example.gov/apply?plan={plan_id}";

/// The name no page may show unescaped.
pub const NASTY: &str = "<script>alert(1)</script> & \"quotes\" 'apos' café 🎉";

/// One plan row, its features and its zips.
#[derive(Debug, Clone)]
pub struct PlanFixture {
    /// Plan id.
    pub id: String,
    /// Marketing name.
    pub name: String,
    /// Carrier.
    pub insurer: String,
    /// `active` or `inactive`.
    pub status: String,
    /// Free text, or NULL.
    pub description: Option<String>,
    /// Monthly premium, as SQL numeric text.
    pub monthly: String,
    /// Copay, as SQL numeric text.
    pub copay: String,
    /// Deductible, as SQL numeric text.
    pub deductible: String,
    /// Youngest eligible age.
    pub min_age: Option<i32>,
    /// Oldest eligible age.
    pub max_age: Option<i32>,
    /// Feature rows.
    pub features: BTreeMap<String, String>,
    /// plan_to_zip rows.
    pub zips: Vec<String>,
}

/// An active plan with round numbers, no features and no zips.
pub fn plan(id: &str) -> PlanFixture {
    PlanFixture {
        id: id.into(),
        name: format!("Plan {id}"),
        insurer: "Acme Health".into(),
        status: "active".into(),
        description: Some(format!("About {id}")),
        monthly: "10.00".into(),
        copay: "5.00".into(),
        deductible: "100.00".into(),
        min_age: Some(65),
        max_age: None,
        features: BTreeMap::new(),
        zips: Vec::new(),
    }
}

impl PlanFixture {
    /// Sets the name.
    pub fn name(mut self, name: &str) -> Self {
        self.name = name.into();
        self
    }
    /// Marks the plan inactive.
    pub fn inactive(mut self) -> Self {
        self.status = "inactive".into();
        self
    }
    /// Sets premium, copay and deductible.
    pub fn costs(mut self, monthly: &str, copay: &str, deductible: &str) -> Self {
        self.monthly = monthly.into();
        self.copay = copay.into();
        self.deductible = deductible.into();
        self
    }
    /// Adds a feature.
    pub fn feature(mut self, key: &str, value: &str) -> Self {
        self.features.insert(key.into(), value.into());
        self
    }
    /// Sets the zips.
    pub fn zips(mut self, zips: &[&str]) -> Self {
        self.zips = zips.iter().map(|z| z.to_string()).collect();
        self
    }
    /// Makes the description NULL.
    pub fn no_description(mut self) -> Self {
        self.description = None;
        self
    }
    /// Sets the age limits.
    pub fn ages(mut self, min: Option<i32>, max: Option<i32>) -> Self {
        self.min_age = min;
        self.max_age = max;
        self
    }
}

/// Inserts every plan with its features and zips.
pub async fn insert(db: &TestDatabase, plans: &[PlanFixture]) {
    let client = db.connect().await.expect("connect to the test database");
    for p in plans {
        client
            .execute(
                "INSERT INTO plan (plan_id, plan_name, insurer_name, status, description, \
                 avg_monthly_cost, avg_copay_amount, annual_deductible, min_age, max_age) \
                 VALUES ($1, $2, $3, $4, $5, $6::text::numeric, $7::text::numeric, \
                 $8::text::numeric, $9, $10)",
                &[
                    &p.id,
                    &p.name,
                    &p.insurer,
                    &p.status,
                    &p.description,
                    &p.monthly,
                    &p.copay,
                    &p.deductible,
                    &p.min_age,
                    &p.max_age,
                ],
            )
            .await
            .expect("insert plan");
        for (key, value) in &p.features {
            client
                .execute(
                    "INSERT INTO plan_feature (plan_id, feature_key, feature_value) VALUES ($1, $2, $3)",
                    &[&p.id, key, value],
                )
                .await
                .expect("insert feature");
        }
        for zip in &p.zips {
            client
                .execute(
                    "INSERT INTO plan_to_zip (plan_id, zip_code) VALUES ($1, $2)",
                    &[&p.id, zip],
                )
                .await
                .expect("insert plan_to_zip");
        }
    }
}

/// Options every test builds with.
pub fn options() -> SiteOptions {
    SiteOptions::new(ENROLL).expect("valid site options")
}

/// Builds the site of `db` into memory.
pub async fn build_in_memory(db: &TestDatabase) -> BTreeMap<String, Vec<u8>> {
    let sink = MemorySink::new();
    generator::site::render_site(db.config(), &options(), &sink)
        .await
        .expect("site builds");
    sink.into_objects()
}

/// One object as text.
pub fn text<'a>(site: &'a BTreeMap<String, Vec<u8>>, key: &str) -> &'a str {
    let bytes = site.get(key).unwrap_or_else(|| {
        panic!(
            "{key} was not written; keys: {:?}",
            site.keys()
                .filter(|k| !k.starts_with("assets/"))
                .collect::<Vec<_>>()
        )
    });
    std::str::from_utf8(bytes).unwrap_or_else(|e| panic!("{key} is not UTF-8: {e}"))
}

/// The four plans most tests use: two cheap and one dear active plan, one
/// inactive plan, zips with leading zeros and a zip with only the inactive plan.
pub fn standard_plans() -> Vec<PlanFixture> {
    vec![
        plan("S0001-001-0")
            .name("Cheap Basic Rx")
            .costs("20.00", "7.50", "0.00")
            .feature("mail_order_pharmacy", "true")
            .feature("dental", "false")
            .feature("preferred_pharmacy_network", "CVS, Walgreens")
            .zips(&["02134", "00501"]),
        plan("S0002-001-0")
            .name(NASTY)
            .costs("12.50", "0.00", "500.00")
            .feature("notes", "<b>bold</b> & more")
            .zips(&["02134"]),
        plan("S0003-001-0")
            .name("Retired Plan")
            .inactive()
            .zips(&["02134", "99999"]),
        plan("H1234-567-8")
            .name("Premium Gold")
            .costs("1234.56", "0.00", "0.00")
            .no_description()
            .ages(None, None)
            .zips(&["00501", "02134"]),
    ]
}
