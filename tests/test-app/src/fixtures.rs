//! Fixture builders: rows of the seed tables with the awkward text every
//! page and answer must survive (quotes, `<`, `&`, accents).

use tokio_postgres::Client;

/// The SSN every fixture beneficiary has, so that tests can look for it
/// where it must never appear.
pub const SSN: &str = "078-05-1120";

/// An active plan `plan_id` named `name`, with two features.
pub async fn insert_plan(db: &Client, plan_id: &str, name: &str) {
    db.execute(
        "INSERT INTO plan (plan_id, plan_name, insurer_name, status, description,
                           avg_monthly_cost, avg_copay_amount, annual_deductible, min_age, max_age)
         VALUES ($1, $2, 'Acme Health', 'active', 'A plan & more <b>', 32.50, 7.00, 0, 65, NULL)",
        &[&plan_id, &name],
    )
    .await
    .expect("a plan");
    db.execute(
        "INSERT INTO plan_feature (plan_id, feature_key, feature_value)
         VALUES ($1, 'mail_order', 'yes'), ($1, 'generic_tier', '1')",
        &[&plan_id],
    )
    .await
    .expect("the plan's features");
}

/// A beneficiary `id` (Zoë O'Brien of Boston, 02134) with `ssn`.
pub async fn insert_beneficiary(db: &Client, id: i64, ssn: &str) {
    db.execute(
        "INSERT INTO beneficiary (beneficiary_id, fname, lname, sex, ssn, birthdate,
                                  address, city, state, zip_code)
         VALUES ($1, 'Zoë', 'O''Brien', 'F', $2, '1950-03-04', '1 Main St', 'Boston', 'MA', '02134')",
        &[&id, &ssn],
    )
    .await
    .expect("a beneficiary");
}

/// A user `username` with `password` (hashed as the API hashes) and
/// `username@example.com`, linked to `beneficiary` if given.
pub async fn insert_user(db: &Client, username: &str, password: &str, beneficiary: Option<i64>) {
    let hash = auth_api::auth::password::hash_password(password);
    insert_user_with_hash(db, username, &hash, beneficiary).await;
}

/// A user `username` whose stored password is `hash` as given (a legacy
/// hash, say).
pub async fn insert_user_with_hash(
    db: &Client,
    username: &str,
    hash: &str,
    beneficiary: Option<i64>,
) {
    db.execute(
        r#"INSERT INTO "user" (username, password, email, beneficiary_id) VALUES ($1, $2, $3, $4)"#,
        &[
            &username,
            &hash,
            &format!("{username}@example.com"),
            &beneficiary,
        ],
    )
    .await
    .expect("a user");
}

/// An enrollment from today + `start` days to today + `end` days (`None`:
/// open-ended).
pub async fn enroll(db: &Client, beneficiary: i64, plan_id: &str, start: i32, end: Option<i32>) {
    db.execute(
        "INSERT INTO beneficiary_to_plan (beneficiary_id, plan_id, start_date, end_date)
         VALUES ($1, $2, CURRENT_DATE + $3::int, CURRENT_DATE + $4::int)",
        &[&beneficiary, &plan_id, &start, &end],
    )
    .await
    .expect("an enrollment");
}

/// Marks the address of `username`, a user without an `account` row (as
/// the demo users), as proven by its owner: reset links and notices go
/// only to a verified address.
pub async fn verify_address(db: &Client, username: &str) {
    db.execute(
        r#"INSERT INTO verified_address (username, email)
           SELECT username, email FROM "user" WHERE username = $1"#,
        &[&username],
    )
    .await
    .expect("a verified address");
}

/// A user `username` / `password` linked to a fresh beneficiary `id`.
pub async fn user_with_beneficiary(db: &Client, username: &str, password: &str, id: i64) {
    insert_beneficiary(db, id, SSN).await;
    insert_user(db, username, password, Some(id)).await;
}
