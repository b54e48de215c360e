-- The tables of the existing production schema, with the column names and
-- types other parties rely on. IF NOT EXISTS: against the production
-- database this is a no-op, against a new one it creates them.

CREATE TABLE IF NOT EXISTS beneficiary (
    beneficiary_id bigint PRIMARY KEY,
    fname text,
    lname text,
    sex text,
    ssn text,
    birthdate date,
    address text,
    city text,
    state char(2),
    zip_code text
);

CREATE TABLE IF NOT EXISTS plan (
    plan_id text PRIMARY KEY,
    plan_name text NOT NULL,
    insurer_name text NOT NULL,
    status text NOT NULL,
    description text,
    avg_monthly_cost numeric(10,2) NOT NULL,
    avg_copay_amount numeric(10,2) NOT NULL,
    annual_deductible numeric(10,2) NOT NULL,
    min_age int,
    max_age int
);

CREATE TABLE IF NOT EXISTS beneficiary_to_plan (
    beneficiary_id bigint NOT NULL,
    plan_id text NOT NULL,
    start_date date NOT NULL,
    end_date date
);

CREATE TABLE IF NOT EXISTS plan_feature (
    plan_id text NOT NULL,
    feature_key text NOT NULL,
    feature_value text,
    PRIMARY KEY (plan_id, feature_key)
);

CREATE TABLE IF NOT EXISTS plan_to_zip (
    plan_id text NOT NULL,
    zip_code text NOT NULL,
    PRIMARY KEY (plan_id, zip_code)
);

CREATE TABLE IF NOT EXISTS "user" (
    username text PRIMARY KEY,
    password text NOT NULL,
    email text,
    beneficiary_id bigint
);
