// The compare page: the table, and the drug list's rows in it.
import { run, startPage } from "../page.mjs";
import { initComparePage } from "../compare-page.mjs";
import { compareShown, startDrugs } from "../drugs.mjs";

startPage();
startDrugs("compare");
run(() => initComparePage(compareShown));
