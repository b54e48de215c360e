//! `generator seed` against real Postgres: plausible data, deterministic for
//! a seed, refusing to load twice.

use argon2::password_hash::{PasswordHash, PasswordVerifier};
use generator::seed::users::{DEMO_PASSWORD, DEMO_USERS, LEGACY_USER, NO_PLAN_USER, argon2id};
use generator::seed::{SeedArgs, SeedSummary, seed};
use whatever_test_db::TestDatabase;

fn args(seed: u64, states: &str) -> SeedArgs {
    SeedArgs {
        seed,
        states: states.split(',').map(String::from).collect(),
        replace: false,
        cms_out: None,
    }
}

async fn seeded(seed_value: u64, states: &str) -> (TestDatabase, SeedSummary) {
    let db = TestDatabase::new().await.unwrap();
    let summary = seed(&args(seed_value, states), db.config()).await.unwrap();
    (db, summary)
}

async fn count(client: &tokio_postgres::Client, sql: &str) -> i64 {
    client.query_one(sql, &[]).await.unwrap().get(0)
}

/// A digest of every seed table's full contents, in a stable order.
async fn digest(client: &tokio_postgres::Client) -> Vec<String> {
    let mut out = Vec::new();
    for table in generator::seed::load::TABLES {
        let sql = format!(
            "SELECT md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {table} t"
        );
        out.push(client.query_one(&sql, &[]).await.unwrap().get(0));
    }
    out
}

#[tokio::test]
async fn a_subset_is_plausible() {
    let (db, summary) = seeded(7, "RI,VT").await;
    let c = db.connect().await.unwrap();

    // Every zip of those states, and only those, can buy an active plan.
    let zips_without_plan = count(
        &c,
        "SELECT count(*) FROM (SELECT DISTINCT zip_code FROM plan_to_zip) z
         WHERE NOT EXISTS (SELECT 1 FROM plan_to_zip pz JOIN plan p USING (plan_id)
                           WHERE pz.zip_code = z.zip_code AND p.status = 'active')",
    )
    .await;
    assert_eq!(zips_without_plan, 0);
    let zips = count(&c, "SELECT count(DISTINCT zip_code) FROM plan_to_zip").await;
    assert_eq!(zips as usize, summary.zips);
    assert!(
        (350..450).contains(&zips),
        "RI + VT have about 400 zips, got {zips}"
    );
    let foreign = count(
        &c,
        "SELECT count(*) FROM plan_to_zip WHERE NOT (zip_code LIKE '02%' OR zip_code LIKE '05%')",
    )
    .await;
    assert_eq!(foreign, 0, "RI zips start 028/029, VT 05");

    let plans = count(&c, "SELECT count(*) FROM plan").await;
    assert_eq!(plans as u64, summary.plan);
    assert!((30..400).contains(&plans), "{plans} plans");
    let bad_ids = count(
        &c,
        "SELECT count(*) FROM plan WHERE plan_id !~ '^[HSR][0-9]{4}-[0-9]{3}-[0-9]$'",
    )
    .await;
    assert_eq!(bad_ids, 0);
    assert!(count(&c, "SELECT count(*) FROM plan WHERE plan_id LIKE 'S%'").await >= 10);
    assert!(count(&c, "SELECT count(*) FROM plan WHERE plan_id LIKE 'H%'").await >= 10);
    let inactive = count(&c, "SELECT count(*) FROM plan WHERE status = 'inactive'").await;
    assert!(
        inactive > 0 && inactive < plans / 4,
        "{inactive} of {plans} inactive"
    );
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM plan WHERE status NOT IN ('active', 'inactive')"
        )
        .await,
        0
    );

    let feature_counts_out_of_range = count(
        &c,
        "SELECT count(*) FROM plan p WHERE (SELECT count(*) FROM plan_feature f WHERE f.plan_id = p.plan_id) NOT BETWEEN 10 AND 20",
    )
    .await;
    assert_eq!(feature_counts_out_of_range, 0);
    let stars_outside = count(
        &c,
        "SELECT count(*) FROM plan_feature WHERE feature_key = 'star_rating'
         AND NOT (feature_value::numeric BETWEEN 1 AND 5 AND feature_value::numeric * 2 = floor(feature_value::numeric * 2))",
    )
    .await;
    assert_eq!(stars_outside, 0);
    let money_outside = count(
        &c,
        "SELECT count(*) FROM plan WHERE avg_monthly_cost NOT BETWEEN 0 AND 150
         OR annual_deductible NOT BETWEEN 0 AND 590 OR avg_copay_amount NOT BETWEEN 0 AND 100",
    )
    .await;
    assert_eq!(money_outside, 0);
    assert!(
        count(
            &c,
            "SELECT count(*) FROM plan WHERE min_age = 65 AND max_age IS NULL"
        )
        .await
            > plans / 2
    );
    let tricky = count(
        &c,
        "SELECT count(*) FROM plan WHERE plan_name ~ '[\"&<]' OR plan_name ~ '[^\\x01-\\x7e]' OR description ~ '[^\\x01-\\x7e]'",
    )
    .await;
    assert!(tricky >= 2, "{tricky} plans with quotes, &, < or non-ASCII");

    // People: never-issued SSNs, plausible birthdates, enrolled only in
    // plans sold in their zip, and some without a current plan.
    let people = count(&c, "SELECT count(*) FROM beneficiary").await;
    assert!(people >= 60, "{people} beneficiaries");
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM beneficiary WHERE ssn !~ '^9[0-9]{2}-[0-9]{2}-[0-9]{4}$'"
        )
        .await,
        0
    );
    assert_eq!(
        count(&c, "SELECT count(*) - count(DISTINCT ssn) FROM beneficiary").await,
        0
    );
    assert_eq!(count(&c, "SELECT count(*) FROM beneficiary WHERE birthdate NOT BETWEEN '1930-01-01' AND '2000-12-31'").await, 0);
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM beneficiary WHERE state NOT IN ('RI', 'VT')"
        )
        .await,
        0
    );
    let elsewhere = count(
        &c,
        "SELECT count(*) FROM beneficiary_to_plan e JOIN beneficiary b USING (beneficiary_id)
         WHERE NOT EXISTS (SELECT 1 FROM plan_to_zip pz WHERE pz.plan_id = e.plan_id AND pz.zip_code = b.zip_code)",
    )
    .await;
    assert_eq!(elsewhere, 0);
    let current = "EXISTS (SELECT 1 FROM beneficiary_to_plan e WHERE e.beneficiary_id = b.beneficiary_id
                   AND e.start_date <= current_date AND (e.end_date IS NULL OR e.end_date >= current_date))";
    let with_current = count(
        &c,
        &format!("SELECT count(*) FROM beneficiary b WHERE {current}"),
    )
    .await;
    assert!(
        with_current > people / 2 && with_current < people,
        "{with_current} of {people}"
    );
    assert!(
        count(
            &c,
            "SELECT count(*) FROM beneficiary_to_plan WHERE end_date < current_date"
        )
        .await
            > 0
    );
    assert!(
        count(
            &c,
            "SELECT count(*) FROM beneficiary_to_plan WHERE start_date > current_date"
        )
        .await
            > 0
    );
    let current_inactive = count(
        &c,
        "SELECT count(*) FROM beneficiary_to_plan e JOIN plan p USING (plan_id)
         WHERE e.start_date <= current_date AND e.end_date IS NULL AND p.status <> 'active'",
    )
    .await;
    assert_eq!(
        current_inactive, 0,
        "open-ended enrollments are in plans on sale"
    );

    // Logins.
    assert_eq!(summary.user as usize, DEMO_USERS + 2);
    let no_plan = count(
        &c,
        &format!("SELECT count(*) FROM \"user\" u JOIN beneficiary b USING (beneficiary_id) WHERE u.username = '{NO_PLAN_USER}' AND NOT {current}"),
    )
    .await;
    assert_eq!(no_plan, 1);
    let demo_with_plan = count(
        &c,
        &format!("SELECT count(*) FROM \"user\" u JOIN beneficiary b USING (beneficiary_id) WHERE u.username LIKE 'demo__' AND {current}"),
    )
    .await;
    assert_eq!(demo_with_plan as usize, DEMO_USERS);
}

#[tokio::test]
async fn passwords_verify_with_the_documented_password() {
    let (db, _) = seeded(1, "RI").await;
    let c = db.connect().await.unwrap();
    let rows = c
        .query(
            "SELECT username, password, email FROM \"user\" ORDER BY username",
            &[],
        )
        .await
        .unwrap();
    let mut salts = std::collections::HashSet::new();
    for row in &rows {
        let (username, hash, email): (String, String, String) =
            (row.get(0), row.get(1), row.get(2));
        assert_eq!(email, format!("{username}@example.com"));
        if username == LEGACY_USER {
            assert!(hash.starts_with("$2b$"), "{hash}");
            assert!(bcrypt::verify(DEMO_PASSWORD, &hash).unwrap());
            continue;
        }
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{username}: {hash}"
        );
        let parsed = PasswordHash::new(&hash).unwrap();
        assert!(
            argon2id()
                .verify_password(DEMO_PASSWORD.as_bytes(), &parsed)
                .is_ok(),
            "{username}"
        );
        assert!(
            argon2id()
                .verify_password(b"not-the-password", &parsed)
                .is_err()
        );
        assert!(
            salts.insert(parsed.salt.unwrap().to_string()),
            "{username} shares a salt"
        );
    }
    let names: Vec<String> = rows.iter().map(|r| r.get(0)).collect();
    assert!(names.contains(&"demo01".to_string()) && names.contains(&"demo25".to_string()));
    assert!(names.contains(&LEGACY_USER.to_string()) && names.contains(&NO_PLAN_USER.to_string()));
}

#[tokio::test]
async fn the_same_seed_gives_the_same_database_and_another_seed_does_not() {
    let (a, _) = seeded(42, "RI").await;
    let (b, _) = seeded(42, "ri").await;
    let (c, _) = seeded(43, "RI").await;
    let da = digest(&a.connect().await.unwrap()).await;
    let db = digest(&b.connect().await.unwrap()).await;
    let dc = digest(&c.connect().await.unwrap()).await;
    assert_eq!(da, db);
    // The formulary ids and the drug catalog are fixed lists; which
    // formulary a plan uses, what it covers and at what cost vary.
    let fixed = ["formulary", "drug"];
    for ((x, y), table) in da.iter().zip(&dc).zip(generator::seed::load::TABLES) {
        if !fixed.contains(table) {
            assert_ne!(x, y, "table {table} did not change with the seed");
        }
    }
}

#[tokio::test]
async fn new_york_keeps_the_leading_zeros_of_00501() {
    let (db, _) = seeded(1, "NY").await;
    let c = db.connect().await.unwrap();
    let n = count(
        &c,
        "SELECT count(*) FROM plan_to_zip pz JOIN plan p USING (plan_id) WHERE pz.zip_code = '00501' AND p.status = 'active'",
    )
    .await;
    assert!(n >= 5, "00501 (Holtsville) has {n} active plans");
    assert_eq!(
        count(
            &c,
            "SELECT count(*) FROM plan_to_zip WHERE zip_code = '501'"
        )
        .await,
        0
    );
}

#[tokio::test]
async fn a_database_with_data_is_refused_unless_replace() {
    let (db, first) = seeded(1, "RI").await;
    let err = seed(&args(2, "VT"), db.config())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains(&format!("already has {} plans", first.plan)),
        "{err}"
    );
    assert!(err.contains("seed loads into an empty database"), "{err}");
    assert!(err.contains("--replace"), "{err}");
    let c = db.connect().await.unwrap();
    assert_eq!(
        count(&c, "SELECT count(*) FROM beneficiary WHERE state = 'VT'").await,
        0,
        "nothing loaded"
    );

    let mut replace = args(2, "VT");
    replace.replace = true;
    let second = seed(&replace, db.config()).await.unwrap();
    assert_eq!(
        count(&c, "SELECT count(*) FROM beneficiary WHERE state = 'RI'").await,
        0
    );
    assert_eq!(
        count(&c, "SELECT count(*) FROM plan").await as u64,
        second.plan
    );
}

#[tokio::test]
async fn an_unknown_state_is_named() {
    let db = TestDatabase::new().await.unwrap();
    let err = seed(&args(1, "MA,XX"), db.config())
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("unknown state \"XX\""), "{err}");
    assert!(err.contains("MA"), "lists the known codes: {err}");
}
