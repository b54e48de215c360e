// "Your plan".
import { run, startPage } from "../page.mjs";
import { initMyPlan } from "../my-plan.mjs";

startPage();
run(initMyPlan);
