//! `match_beneficiary`, attacked as the API's role: a lifetime allowance of
//! wrong SSN digits per beneficiary, counted inside the function where that
//! role can neither read nor reset the count, and last names compared in
//! one form (`identity_name`) whatever their case or Unicode spelling.

use tokio_postgres::Client;
use tokio_postgres::error::SqlState;
use whatever_test_db::{TestDatabase, TestLogin};

/// Wrong guesses a beneficiary's facts may take, as docs/accounts.md says.
const LIMIT: i32 = 5;

/// A beneficiary as the source of truth holds one.
struct Person {
    id: i64,
    last_name: &'static str,
    birth_date: &'static str,
    zip: &'static str,
    ssn: &'static str,
}

const ZOE: Person = Person {
    id: 1,
    last_name: "Quinn",
    birth_date: "1950-03-04",
    zip: "02134",
    ssn: "078-05-1120",
};
const YUSUF: Person = Person {
    id: 2,
    last_name: "Yilmaz",
    birth_date: "1948-11-30",
    zip: "60601",
    ssn: "219-09-9999",
};
const XAVIER: Person = Person {
    id: 3,
    last_name: "Ortiz",
    birth_date: "1961-07-15",
    zip: "94110",
    ssn: "457-55-5462",
};

async fn insert(owner: &Client, person: &Person) {
    owner
        .execute(
            "INSERT INTO beneficiary (beneficiary_id, fname, lname, birthdate, zip_code, ssn)
             VALUES ($1, 'Test', $2, $3::text::date, $4, $5)",
            &[
                &person.id,
                &person.last_name,
                &person.birth_date,
                &person.zip,
                &person.ssn,
            ],
        )
        .await
        .unwrap();
}

/// A database holding `people`, its owner's connection and a login that is
/// a member of the API's role alone (kept alive with the database).
async fn setup(people: &[&Person]) -> (TestDatabase, Client, TestLogin, Client) {
    let db = TestDatabase::new().await.unwrap();
    let owner = db.connect().await.unwrap();
    for person in people {
        insert(&owner, person).await;
    }
    let login = db.login_in("whatever_api_role").await.unwrap();
    let api = login.config().connect().await.unwrap();
    (db, owner, login, api)
}

/// `match_beneficiary` as the API calls it: one statement, committed.
async fn try_match(
    api: &Client,
    last_name: Option<&str>,
    birth_date: Option<&str>,
    zip: Option<&str>,
    digits: Option<&str>,
) -> Option<i64> {
    api.query_one(
        "SELECT match_beneficiary($1, $2::text::date, $3, $4)",
        &[&last_name, &birth_date, &zip, &digits],
    )
    .await
    .unwrap()
    .get(0)
}

async fn guess(api: &Client, person: &Person, last_name: &str, digits: &str) -> Option<i64> {
    try_match(
        api,
        Some(last_name),
        Some(person.birth_date),
        Some(person.zip),
        Some(digits),
    )
    .await
}

fn last4(person: &Person) -> &'static str {
    &person.ssn[person.ssn.len() - 4..]
}

/// Failures counted against `person`, as the owner sees them (0: no row).
async fn failures(owner: &Client, person: &Person) -> i32 {
    owner
        .query_opt(
            "SELECT failures FROM identity_match_failure WHERE beneficiary_id = $1",
            &[&person.id],
        )
        .await
        .unwrap()
        .map_or(0, |row| row.get(0))
}

#[tokio::test]
async fn the_generate_series_oracle_recovers_nothing_as_the_api_role() {
    let (_db, owner, _login, api) = setup(&[&ZOE, &YUSUF, &XAVIER]).await;
    // The API's role may not read the SSN ...
    let err = api
        .query("SELECT ssn FROM beneficiary", &[])
        .await
        .expect_err("the API role read the SSN");
    assert_eq!(err.code(), Some(&SqlState::INSUFFICIENT_PRIVILEGE));
    // ... and asking the match function every possible last four of every
    // beneficiary it may read (all but XAVIER here) gets none of them.
    let found = api
        .query(
            "SELECT b.beneficiary_id, g
               FROM beneficiary b CROSS JOIN generate_series(0, 9999) g
              WHERE b.beneficiary_id <> 3
                AND match_beneficiary(b.lname, b.birthdate, b.zip_code, lpad(g::text, 4, '0'))
                    IS NOT NULL",
            &[],
        )
        .await
        .unwrap();
    let found: Vec<(i64, i32)> = found.iter().map(|r| (r.get(0), r.get(1))).collect();
    assert_eq!(found, [], "digits recovered through the match function");
    // Every guess counted against the beneficiary it named.
    assert_eq!(failures(&owner, &ZOE).await, 10_000);
    assert_eq!(failures(&owner, &YUSUF).await, 10_000);
    // Closed for good: the right digits no longer match ...
    assert_eq!(guess(&api, &ZOE, ZOE.last_name, last4(&ZOE)).await, None);
    assert_eq!(
        guess(&api, &YUSUF, YUSUF.last_name, last4(&YUSUF)).await,
        None
    );
    // ... while a beneficiary nobody guessed at is untouched.
    assert_eq!(failures(&owner, &XAVIER).await, 0);
    assert_eq!(
        guess(&api, &XAVIER, XAVIER.last_name, last4(&XAVIER)).await,
        Some(XAVIER.id)
    );
}

#[tokio::test]
async fn the_right_digits_match_until_the_limit_and_never_after() {
    let (_db, owner, _login, api) = setup(&[&ZOE]).await;
    for wrong in ["0000", "1111", "2222", "3333"] {
        assert_eq!(guess(&api, &ZOE, "Quinn", wrong).await, None);
    }
    assert_eq!(failures(&owner, &ZOE).await, LIMIT - 1);
    // One failure short of the limit, the right digits still match, and a
    // match is no failure.
    assert_eq!(guess(&api, &ZOE, "Quinn", "1120").await, Some(ZOE.id));
    assert_eq!(failures(&owner, &ZOE).await, LIMIT - 1);

    assert_eq!(guess(&api, &ZOE, "Quinn", "4444").await, None);
    assert_eq!(failures(&owner, &ZOE).await, LIMIT);
    // At the limit, the right digits are refused like any others, and
    // counted, so operators see someone is still trying.
    assert_eq!(guess(&api, &ZOE, "Quinn", "1120").await, None);
    assert_eq!(failures(&owner, &ZOE).await, LIMIT + 1);

    // An operator who has checked the person's identity another way
    // reopens the path, as docs/accounts.md says.
    owner
        .execute(
            "DELETE FROM identity_match_failure WHERE beneficiary_id = $1",
            &[&ZOE.id],
        )
        .await
        .unwrap();
    assert_eq!(guess(&api, &ZOE, "Quinn", "1120").await, Some(ZOE.id));
}

#[tokio::test]
async fn failures_count_against_each_beneficiary_the_facts_name() {
    // Twins: the same last name, birth date and ZIP code.
    const ANA: Person = Person {
        id: 10,
        last_name: "Ruiz",
        birth_date: "1955-01-02",
        zip: "73301",
        ssn: "111-22-3333",
    };
    const EVA: Person = Person {
        id: 11,
        ssn: "444-55-6666",
        ..ANA
    };
    let (_db, owner, _login, api) = setup(&[&ANA, &EVA, &ZOE]).await;

    // Facts that name nobody count against nobody.
    assert_eq!(guess(&api, &ANA, "Ruiz-Lopez", "0000").await, None);
    assert_eq!(guess(&api, &ZOE, "Ruiz", "0000").await, None);
    let rows: i64 = owner
        .query_one("SELECT count(*) FROM identity_match_failure", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 0);

    // Wrong digits for both twins: one failure each, none for anyone else.
    assert_eq!(guess(&api, &ANA, "Ruiz", "9999").await, None);
    assert_eq!(failures(&owner, &ANA).await, 1);
    assert_eq!(failures(&owner, &EVA).await, 1);
    assert_eq!(failures(&owner, &ZOE).await, 0);

    // One twin's right digits match her and are no failure for the other.
    assert_eq!(guess(&api, &EVA, "Ruiz", "6666").await, Some(EVA.id));
    assert_eq!(failures(&owner, &ANA).await, 1);
    assert_eq!(failures(&owner, &EVA).await, 1);

    // At the limit, both are closed, each to her own right digits too.
    for _ in 1..LIMIT {
        assert_eq!(guess(&api, &ANA, "Ruiz", "0001").await, None);
    }
    assert_eq!(failures(&owner, &ANA).await, LIMIT);
    assert_eq!(failures(&owner, &EVA).await, LIMIT);
    assert_eq!(guess(&api, &ANA, "Ruiz", "3333").await, None);
    assert_eq!(guess(&api, &EVA, "Ruiz", "6666").await, None);
}

#[tokio::test]
async fn concurrent_guesses_are_all_counted() {
    let (_db, owner, login, _api) = setup(&[&ZOE]).await;
    // 24 guesses at once on separate connections: none may read a count
    // that another has already raised and go uncounted.
    let mut tasks = Vec::new();
    for i in 0..24 {
        let config = login.config().clone();
        tasks.push(tokio::spawn(async move {
            let api = config.connect().await.unwrap();
            let digits = format!("{:04}", 2000 + i);
            guess(&api, &ZOE, "Quinn", &digits).await
        }));
    }
    for task in tasks {
        assert_eq!(task.await.unwrap(), None);
    }
    assert_eq!(failures(&owner, &ZOE).await, 24);
}

#[tokio::test]
async fn the_api_role_cannot_read_or_change_the_failures() {
    let (db, owner, _login, api) = setup(&[&ZOE]).await;
    assert_eq!(guess(&api, &ZOE, "Quinn", "0000").await, None);
    for sql in [
        "SELECT * FROM identity_match_failure",
        "SELECT count(*) FROM identity_match_failure",
        "INSERT INTO identity_match_failure (beneficiary_id, failures) VALUES (1, 1)",
        "UPDATE identity_match_failure SET failures = 0",
        "DELETE FROM identity_match_failure",
        "TRUNCATE identity_match_failure",
        "ALTER TABLE identity_match_failure DISABLE TRIGGER ALL",
        // Nor may it swap in a function of its own.
        "CREATE OR REPLACE FUNCTION match_beneficiary(text, date, text, text) \
         RETURNS bigint LANGUAGE sql AS 'SELECT 1::bigint'",
    ] {
        let err = api
            .batch_execute(sql)
            .await
            .expect_err(&format!("the API role ran: {sql}"));
        assert_eq!(
            err.code(),
            Some(&SqlState::INSUFFICIENT_PRIVILEGE),
            "{sql}: {err:?}"
        );
    }
    // Nor the other clients.
    for group in ["whatever_sync_role", "whatever_build_role"] {
        let login = db.login_in(group).await.unwrap();
        let client = login.config().connect().await.unwrap();
        let err = client
            .batch_execute("SELECT count(*) FROM identity_match_failure")
            .await
            .expect_err(group);
        assert_eq!(
            err.code(),
            Some(&SqlState::INSUFFICIENT_PRIVILEGE),
            "{group}"
        );
    }
    assert_eq!(failures(&owner, &ZOE).await, 1);
}

#[tokio::test]
async fn a_beneficiary_removed_by_the_sync_takes_its_failures_along() {
    let (db, owner, _login, api) = setup(&[&ZOE, &YUSUF]).await;
    assert_eq!(guess(&api, &ZOE, "Quinn", "0000").await, None);
    assert_eq!(guess(&api, &YUSUF, "Yilmaz", "0000").await, None);
    let login = db.login_in("whatever_sync_role").await.unwrap();
    let sync = login.config().connect().await.unwrap();
    sync.execute(
        "DELETE FROM beneficiary WHERE beneficiary_id = $1",
        &[&ZOE.id],
    )
    .await
    .unwrap();
    let kept: Vec<i64> = owner
        .query("SELECT beneficiary_id FROM identity_match_failure", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(kept, [YUSUF.id]);
}

#[tokio::test]
async fn a_last_name_has_one_form_however_it_is_typed() {
    const IVAN: Person = Person {
        id: 20,
        last_name: "Ivanov",
        birth_date: "1952-05-06",
        zip: "10001",
        ssn: "123-45-6780",
    };
    let (_db, owner, _login, api) = setup(&[&IVAN]).await;
    // Spellings of one name: case, the Turkish dotted capital I (U+0130),
    // full-width letters, padding with ordinary and no-break spaces.
    let spellings = [
        "Ivanov",
        "IVANOV",
        "ivanov",
        "\u{130}vanov",
        "\u{130}VANOV",
        "\u{ff29}\u{ff56}\u{ff41}\u{ff4e}\u{ff4f}\u{ff56}",
        "  Ivanov\u{a0}",
    ];
    // Lowercasing in Rust is no substitute: it spells U+0130 as "i" plus a
    // combining dot, so a key computed there differs from the database's.
    assert_eq!("\u{130}vanov".to_lowercase(), "i\u{307}vanov");

    let forms: Vec<String> = api
        .query(
            "SELECT DISTINCT identity_name(s) FROM unnest($1::text[]) s",
            &[&spellings.as_slice()],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(forms, ["ivanov"], "one key for every spelling");

    // Each spelling names the same beneficiary: the right digits match ...
    for name in spellings {
        assert_eq!(
            guess(&api, &IVAN, name, "6780").await,
            Some(IVAN.id),
            "{name:?}"
        );
    }
    // ... and wrong digits under five different spellings are five failures
    // against the one person, not one against each spelling.
    for name in &spellings[..LIMIT as usize] {
        assert_eq!(guess(&api, &IVAN, name, "0000").await, None);
    }
    assert_eq!(failures(&owner, &IVAN).await, LIMIT);
    for name in spellings {
        assert_eq!(guess(&api, &IVAN, name, "6780").await, None, "{name:?}");
    }
}

#[tokio::test]
async fn missing_facts_and_malformed_digits() {
    let (_db, owner, _login, api) = setup(&[&ZOE]).await;
    let (name, date, zip) = (Some("Quinn"), Some(ZOE.birth_date), Some(ZOE.zip));
    // A missing fact other than the digits names nobody: nothing matches
    // and nothing is counted.
    for (name, date, zip) in [
        (None, date, zip),
        (name, None, zip),
        (name, date, None),
        (None, None, None),
    ] {
        assert_eq!(try_match(&api, name, date, zip, Some("1120")).await, None);
    }
    assert_eq!(failures(&owner, &ZOE).await, 0);
    // Facts that name her with digits that cannot be hers: refused, and
    // each one a failure (anything but her four digits is a wrong guess).
    let malformed = [
        None,
        Some(""),
        Some("112"),
        Some("11200"),
        Some(" 1120"),
        Some("112a"),
    ];
    for digits in malformed {
        assert_eq!(
            try_match(&api, name, date, zip, digits).await,
            None,
            "{digits:?}"
        );
    }
    assert_eq!(failures(&owner, &ZOE).await, malformed.len() as i32);
}

#[tokio::test]
async fn a_beneficiary_without_an_ssn_never_matches() {
    let (_db, owner, _login, api) = setup(&[]).await;
    owner
        .execute(
            "INSERT INTO beneficiary (beneficiary_id, lname, birthdate, zip_code)
             VALUES (30, 'Noor', '1940-02-29', '99501')",
            &[],
        )
        .await
        .unwrap();
    // Her missing SSN has no last four: not even the empty string is it.
    for digits in ["", "0000"] {
        let found = try_match(
            &api,
            Some("Noor"),
            Some("1940-02-29"),
            Some("99501"),
            Some(digits),
        );
        assert_eq!(found.await, None, "{digits:?}");
    }
}
