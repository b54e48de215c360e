// What the account journeys share: a seeded beneficiary who has no account
// yet, and the mail the SMTP catcher (maildev) received, read through its
// REST API.

import { execFileSync } from 'node:child_process';

/**
 * A seeded beneficiary with a current plan and no account yet, with the
 * facts the create-account form asks for (synthetic data). `skip` passes
 * over that many, so that two journeys on one stack take different people.
 */
export function newcomer(stack, skip = 0) {
  const row = execFileSync('psql', [stack.dbUrl, '-tA', '-F', '|', '-c', `
    SELECT b.lname, b.birthdate, b.zip_code, right(b.ssn, 4), p.plan_name
      FROM beneficiary b
      JOIN beneficiary_to_plan e ON e.beneficiary_id = b.beneficiary_id
       AND e.start_date <= current_date AND (e.end_date IS NULL OR e.end_date >= current_date)
      JOIN plan p ON p.plan_id = e.plan_id
     WHERE NOT EXISTS (SELECT 1 FROM "user" u WHERE u.beneficiary_id = b.beneficiary_id)
     ORDER BY b.beneficiary_id, e.start_date DESC OFFSET ${Number(skip)} LIMIT 1`]).toString().trim();
  const [lastName, birthDate, zip, ssnLast4, planName] = row.split('|');
  return { lastName, birthDate, zip, ssnLast4, planName };
}

/** The messages maildev holds for `to`, once there are at least `n`. */
export async function mailTo(stack, to, n) {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const all = await (await fetch(`${stack.mailUrl}/email`)).json();
    const mine = all.filter((m) => (m.to || []).some((t) => t.address === to));
    if (mine.length >= n) return mine;
    if (Date.now() > deadline) throw new Error(`expected ${n} messages to ${to}, got ${mine.length}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** The verification link in the first message to `email`. */
export async function verificationLink(stack, email) {
  const [message] = await mailTo(stack, email, 1);
  return message.text.match(/(http\S+\/account\/verify\/#token=[A-Za-z0-9_-]+)/)[1];
}

/** A string matching `text` literally. */
export const literally = (text) => new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
