// The account pages: create, verify, reset, settings.
import { run, startPage } from "../page.mjs";
import { initAccountPages } from "../account.mjs";

startPage();
run(initAccountPages);
