-- Drug coverage and the data the yearly drug-cost estimate needs, shaped
-- after the public Part D files: formularies are shared by many plans, a
-- plan's cost sharing is per tier, pharmacy type and days supply.
-- Additive only: new tables and one nullable column on plan.

CREATE TABLE IF NOT EXISTS drug (
    -- RxNorm concept id, kept as text (it is an identifier, not a number).
    rxcui text PRIMARY KEY CHECK (rxcui ~ '^[0-9]{1,10}$'),
    name text NOT NULL CHECK (btrim(name) <> ''),
    generic_name text NOT NULL CHECK (btrim(generic_name) <> ''),
    strength text NOT NULL,
    dose_form text NOT NULL,
    is_generic boolean NOT NULL,
    -- Insulin: the deductible never applies and a fill is capped
    -- (benefit_year.insulin_monthly_cap).
    is_insulin boolean NOT NULL DEFAULT false
);
CREATE INDEX IF NOT EXISTS drug_name_idx ON drug (lower(name));

CREATE TABLE IF NOT EXISTS formulary (
    formulary_id text PRIMARY KEY CHECK (btrim(formulary_id) <> '')
);

CREATE TABLE IF NOT EXISTS formulary_drug (
    formulary_id text NOT NULL REFERENCES formulary (formulary_id) ON DELETE CASCADE,
    rxcui text NOT NULL REFERENCES drug (rxcui) ON DELETE CASCADE,
    tier smallint NOT NULL CHECK (tier BETWEEN 1 AND 6),
    prior_authorization boolean NOT NULL DEFAULT false,
    step_therapy boolean NOT NULL DEFAULT false,
    -- A quantity limit is "at most amount units per days days", or none.
    quantity_limit_amount numeric(10,2) CHECK (quantity_limit_amount > 0),
    quantity_limit_days int CHECK (quantity_limit_days > 0),
    PRIMARY KEY (formulary_id, rxcui),
    CHECK ((quantity_limit_amount IS NULL) = (quantity_limit_days IS NULL))
);
-- The build reads every formulary's row of one drug.
CREATE INDEX IF NOT EXISTS formulary_drug_rxcui_idx ON formulary_drug (rxcui);

-- A plan without a formulary shows "drug coverage details not available".
-- Deleting a formulary leaves its plans without one.
ALTER TABLE plan ADD COLUMN IF NOT EXISTS formulary_id text;
ALTER TABLE plan
    ADD CONSTRAINT plan_formulary_fk FOREIGN KEY (formulary_id)
    REFERENCES formulary (formulary_id) ON DELETE SET NULL NOT VALID;
CREATE INDEX IF NOT EXISTS plan_formulary_idx ON plan (formulary_id);

CREATE TABLE IF NOT EXISTS plan_tier_cost (
    plan_id text NOT NULL REFERENCES plan (plan_id) ON DELETE CASCADE,
    tier smallint NOT NULL CHECK (tier BETWEEN 1 AND 6),
    pharmacy text NOT NULL
        CHECK (pharmacy IN ('preferred_retail', 'standard_retail', 'mail')),
    days_supply smallint NOT NULL CHECK (days_supply IN (30, 90)),
    cost_type text NOT NULL CHECK (cost_type IN ('copay', 'coinsurance')),
    -- Dollars for a copay, percent (0 to 100) for a coinsurance.
    amount numeric(10,2) NOT NULL CHECK (amount >= 0),
    deductible_applies boolean NOT NULL,
    PRIMARY KEY (plan_id, tier, pharmacy, days_supply),
    CHECK (cost_type = 'copay' OR amount <= 100)
);

-- The reference price of a fill, used for coinsurance and the deductible
-- phase (one national price per drug and days supply).
CREATE TABLE IF NOT EXISTS drug_price (
    rxcui text NOT NULL REFERENCES drug (rxcui) ON DELETE CASCADE,
    days_supply smallint NOT NULL CHECK (days_supply IN (30, 90)),
    full_cost numeric(10,2) NOT NULL CHECK (full_cost >= 0),
    PRIMARY KEY (rxcui, days_supply)
);

-- The parameters of a benefit year: data, never constants in code.
CREATE TABLE IF NOT EXISTS benefit_year (
    year int PRIMARY KEY CHECK (year BETWEEN 2006 AND 2100),
    deductible_cap numeric(10,2) NOT NULL CHECK (deductible_cap >= 0),
    oop_threshold numeric(10,2) NOT NULL CHECK (oop_threshold > 0),
    insulin_monthly_cap numeric(10,2) NOT NULL CHECK (insulin_monthly_cap >= 0)
);
INSERT INTO benefit_year (year, deductible_cap, oop_threshold, insulin_monthly_cap)
VALUES (2026, 615.00, 2100.00, 35.00)
ON CONFLICT (year) DO NOTHING;
