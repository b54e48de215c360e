// Money as the pages show it: amounts are kept in whole cents, so sums are
// exact, and printed as US dollars with cents ("$1,234.50").

const usd = new Intl.NumberFormat("en-US", { style: "currency", currency: "USD" });

/** Dollars (a JSON number or a decimal string) as whole cents. */
export const cents = (dollars) => Math.round(Number(dollars || 0) * 100);
/** Cents as "$1,234.50". */
export const money = (c) => usd.format(c / 100);
