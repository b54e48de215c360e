// A zip page: filters and sort, compare, and the drug list's estimates on every card.
import { run, startPage } from "../page.mjs";
import { initZipPage, setDrugEstimates } from "../zip-page.mjs";
import { startDrugs } from "../drugs.mjs";

startPage();
run(initZipPage);
startDrugs("zip", { estimates: setDrugEstimates });
