// A plan page: compare, "mail me this", and the drug list's costs on this plan.
import { run, startPage } from "../page.mjs";
import { initPlanPage } from "../plan-page.mjs";
import { startDrugs } from "../drugs.mjs";

startPage();
run(initPlanPage);
startDrugs("plan");
