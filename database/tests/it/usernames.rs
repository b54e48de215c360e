//! Usernames compare without regard to case (migration V28): the
//! database's `username_key` and Rust's `rules::username::key` fold alike,
//! a second spelling of a name cannot be created, and accounts that shared
//! a name before the migration are kept, one of them marked as the keeper.

use whatever_database::rules::username;
use whatever_test_db::TestDatabase;

/// Spellings whose folding must be the same on both sides: ASCII in both
/// cases, and letters whose case Rust and Postgres would fold differently if
/// either folded beyond ASCII.
const SPELLINGS: &[&str] = &[
    "Demo01",
    "DEMO01",
    "demo01",
    "Zoë.O-Brien_7",
    "ZOË",
    "İvan",
    "ǅemo",
    "ΣΊΣΥΦΟΣ",
    "straße",
    "",
];

#[tokio::test]
async fn the_database_and_rust_fold_usernames_alike() {
    let db = TestDatabase::new().await.unwrap();
    let sql = db.connect().await.unwrap();
    let folded: Vec<String> = sql
        .query(
            "SELECT username_key(s) FROM unnest($1::text[]) WITH ORDINALITY AS t(s, n) ORDER BY n",
            &[&SPELLINGS],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    let rust: Vec<String> = SPELLINGS.iter().map(|s| username::key(s)).collect();
    assert_eq!(folded, rust);
    // Written out by hand: ASCII folds, nothing else does.
    assert_eq!(
        folded[..5],
        ["demo01", "demo01", "demo01", "zoë.o-brien_7", "zoË"]
    );
}

#[tokio::test]
async fn a_name_differing_only_in_case_cannot_be_added() {
    let db = TestDatabase::new().await.unwrap();
    let sql = db.connect().await.unwrap();
    sql.execute(
        r#"INSERT INTO "user" (username, password) VALUES ('demo01', 'x')"#,
        &[],
    )
    .await
    .unwrap();
    let error = sql
        .execute(
            r#"INSERT INTO "user" (username, password) VALUES ('Demo01', 'x')"#,
            &[],
        )
        .await
        .unwrap_err();
    assert_eq!(
        error.code(),
        Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION),
        "{error}"
    );
}

#[tokio::test]
async fn accounts_sharing_a_name_before_the_migration_are_kept_and_one_keeps_the_name() {
    let db = TestDatabase::new().await.unwrap();
    let sql = db.connect().await.unwrap();
    // As the database was before V28: no index, nothing marked.
    sql.batch_execute(
        r#"DROP INDEX user_username_key_idx;
           INSERT INTO "user" (username, password) VALUES
             ('Demo01', 'a'), ('demo01', 'b'), ('DEMO01', 'c'),
             ('Zed', 'd'), ('ZED', 'e'),
             ('alone', 'f');"#,
    )
    .await
    .unwrap();
    sql.batch_execute(include_str!("../../../migrations/V28__username_case.sql"))
        .await
        .unwrap();
    let marked: Vec<(String, bool)> = sql
        .query(
            r#"SELECT username, username_clash FROM "user" ORDER BY username COLLATE "C""#,
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect();
    let expected = [
        // No lower-case spelling of "zed": the first in byte order keeps it.
        ("DEMO01", true),
        ("Demo01", true),
        ("ZED", false),
        ("Zed", true),
        ("alone", false),
        // The spelling already in lower case keeps the name.
        ("demo01", false),
    ];
    let expected: Vec<(String, bool)> = expected
        .iter()
        .map(|(name, clash)| (name.to_string(), *clash))
        .collect();
    assert_eq!(marked, expected);
    // Every row is still there, and no new spelling of any of them fits.
    for name in ["DeMo01", "zed", "ALONE"] {
        let error = sql
            .execute(
                r#"INSERT INTO "user" (username, password) VALUES ($1, 'x')"#,
                &[&name],
            )
            .await
            .unwrap_err();
        assert_eq!(
            error.code(),
            Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION),
            "{name}: {error}"
        );
    }
}
