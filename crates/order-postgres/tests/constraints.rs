//! Database errors become the port's errors by SQLSTATE and constraint name, on the real server.

mod common;

use common::fresh_db;
use order_domain::ports::RepositoryError;

async fn error_of(pool: &sqlx::PgPool, statements: &[&'static str]) -> RepositoryError {
    let mut connection = pool.acquire().await.expect("connection");
    let (last, setup) = statements.split_last().expect("a statement");
    for statement in setup {
        sqlx::query(*statement)
            .execute(&mut *connection)
            .await
            .expect("setup");
    }
    let error = sqlx::query(*last)
        .execute(&mut *connection)
        .await
        .expect_err("the statement breaks a constraint");
    order_postgres::storage(error)
}

#[tokio::test]
async fn a_taken_unique_key_is_a_duplicate_named_by_its_constraint() {
    let db = fresh_db().await;
    let error = error_of(
        &db.owner,
        &[
            "CREATE TEMP TABLE t (code text CONSTRAINT t_code_key UNIQUE)",
            "INSERT INTO t VALUES ('a')",
            "INSERT INTO t VALUES ('a')",
        ],
    )
    .await;
    assert_eq!(
        error,
        RepositoryError::Duplicate {
            what: "t_code_key".into()
        }
    );
}

#[tokio::test]
async fn check_foreign_key_and_not_null_violations_are_rejections() {
    let db = fresh_db().await;
    let check = error_of(
        &db.owner,
        &[
            "CREATE TEMP TABLE c (n int CONSTRAINT c_n_positive CHECK (n > 0))",
            "INSERT INTO c VALUES (0)",
        ],
    )
    .await;
    assert_eq!(
        check,
        RepositoryError::Rejected {
            constraint: "c_n_positive".into()
        }
    );
    let foreign = error_of(
        &db.owner,
        &[
            "CREATE TEMP TABLE p (id int PRIMARY KEY)",
            "CREATE TEMP TABLE f (p int CONSTRAINT f_p_fkey REFERENCES p (id))",
            "INSERT INTO f VALUES (7)",
        ],
    )
    .await;
    assert_eq!(
        foreign,
        RepositoryError::Rejected {
            constraint: "f_p_fkey".into()
        }
    );
    let missing = error_of(
        &db.owner,
        &[
            "CREATE TEMP TABLE m (n int NOT NULL)",
            "INSERT INTO m VALUES (NULL)",
        ],
    )
    .await;
    assert!(
        matches!(missing, RepositoryError::Rejected { .. }),
        "{missing:?}"
    );
}

#[tokio::test]
async fn other_failures_are_unavailable_with_the_database_error_as_cause() {
    let db = fresh_db().await;
    let error = error_of(&db.owner, &["SELECT * FROM no_such_table"]).await;
    let RepositoryError::Unavailable(cause) = &error else {
        panic!("unavailable, got {error:?}");
    };
    assert!(
        cause.to_string().contains("no_such_table"),
        "the cause is kept: {cause}"
    );
}

#[tokio::test]
async fn text_the_database_cannot_store_is_a_rejection_not_an_outage() {
    let db = fresh_db().await;
    let error = sqlx::query("SELECT $1::text")
        .bind("ORD-\u{0}")
        .execute(&db.owner)
        .await
        .expect_err("PostgreSQL text holds no NUL");
    let mapped = order_postgres::storage(error);
    assert!(
        matches!(&mapped, RepositoryError::Rejected { constraint } if constraint.starts_with("SQLSTATE 22")),
        "{mapped:?}"
    );
}
