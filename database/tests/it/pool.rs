//! The connection pool, against a real Postgres.

use whatever_database::pool::{DEFAULT_WAIT, build_pool};
use whatever_test_db::TestDatabase;

async fn backend_pid(pool: &deadpool_postgres::Pool) -> i32 {
    let client = pool.get().await.unwrap();
    client
        .query_one("SELECT pg_backend_pid()", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn the_connection_used_last_is_used_next() {
    let db = TestDatabase::new().await.unwrap();
    let pool = build_pool(db.config(), DEFAULT_WAIT).unwrap();
    // Open the whole pool at once, then hand every connection back.
    let all: Vec<_> =
        futures::future::join_all((0..db.config().pool_size).map(|_| pool.get())).await;
    let all: Vec<_> = all.into_iter().map(Result::unwrap).collect();
    assert_eq!(pool.status().size, db.config().pool_size);
    drop(all);

    // One request at a time keeps to one warm connection, not the next of
    // the pool in turn.
    let first = backend_pid(&pool).await;
    for _ in 0..8 {
        assert_eq!(backend_pid(&pool).await, first);
    }
}
