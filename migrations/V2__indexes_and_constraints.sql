-- Additive only: indexes for the queries the site build and the API run, and
-- constraints that keep new rows sane. Constraints are NOT VALID so that
-- existing production rows never block the migration; they still hold for
-- every row written from now on.

-- Zip search and the build's zip grouping read plan_to_zip by zip.
CREATE INDEX IF NOT EXISTS plan_to_zip_zip_idx ON plan_to_zip (zip_code, plan_id);

-- "Current plan": a beneficiary's rows, latest start first.
CREATE INDEX IF NOT EXISTS beneficiary_to_plan_beneficiary_idx
    ON beneficiary_to_plan (beneficiary_id, start_date DESC);

-- The delta format keys enrollment rows by these three columns.
CREATE UNIQUE INDEX IF NOT EXISTS beneficiary_to_plan_key_idx
    ON beneficiary_to_plan (beneficiary_id, plan_id, start_date);

CREATE INDEX IF NOT EXISTS user_beneficiary_idx ON "user" (beneficiary_id);

-- The public site lists active plans only.
CREATE INDEX IF NOT EXISTS plan_active_idx ON plan (plan_id) WHERE status = 'active';

ALTER TABLE plan
    ADD CONSTRAINT plan_status_check CHECK (status IN ('active', 'inactive')) NOT VALID;
ALTER TABLE plan_to_zip
    ADD CONSTRAINT plan_to_zip_zip_format CHECK (zip_code ~ '^[0-9]{5}$') NOT VALID;
ALTER TABLE plan_to_zip
    ADD CONSTRAINT plan_to_zip_plan_fk FOREIGN KEY (plan_id)
    REFERENCES plan (plan_id) ON DELETE CASCADE NOT VALID;
ALTER TABLE plan_feature
    ADD CONSTRAINT plan_feature_plan_fk FOREIGN KEY (plan_id)
    REFERENCES plan (plan_id) ON DELETE CASCADE NOT VALID;
ALTER TABLE beneficiary_to_plan
    ADD CONSTRAINT beneficiary_to_plan_beneficiary_fk FOREIGN KEY (beneficiary_id)
    REFERENCES beneficiary (beneficiary_id) ON DELETE CASCADE NOT VALID;
ALTER TABLE beneficiary_to_plan
    ADD CONSTRAINT beneficiary_to_plan_plan_fk FOREIGN KEY (plan_id)
    REFERENCES plan (plan_id) NOT VALID;
ALTER TABLE beneficiary_to_plan
    ADD CONSTRAINT beneficiary_to_plan_dates CHECK (end_date IS NULL OR end_date >= start_date) NOT VALID;
