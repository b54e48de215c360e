// The home page and the not-found page: the ZIP search and the header.
import { startPage } from "../page.mjs";

startPage();
