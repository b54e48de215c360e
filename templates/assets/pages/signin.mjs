// The sign-in page: password, then a second factor; or a passkey.
import { run, startPage } from "../page.mjs";
import { initSignin } from "../signin.mjs";
import { initPasskeySignin } from "../passkeys.mjs";

startPage();
run(initSignin);
run(initPasskeySignin);
