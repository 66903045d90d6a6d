// Types generated from openapi/openapi.json by openapi-typescript (target/ci-clients/ts/api.d.ts)
// as a TypeScript front end would use them. .ci/clients compiles this file with
// `tsc --noEmit --strict`: it must type-check, and each `@ts-expect-error` line must still be
// an error, so the generated types keep saying what the API requires.
import type { components, operations, paths } from "../target/ci-clients/ts/api";

type Schemas = components["schemas"];
type Contact = Schemas["ContactDto"];
type JoinBody = paths["/api/v1/contacts/{id}/join"]["post"]["requestBody"]["content"]["application/json"];
type JoinResult = paths["/api/v1/contacts/{id}/join"]["post"]["responses"][201]["content"]["application/json"];
type ContactQuery = NonNullable<operations["listContacts"]["parameters"]["query"]>;
type ContactPage = operations["listContacts"]["responses"][200]["content"]["application/json"];
type Payment = operations["payInvoice"]["requestBody"]["content"]["application/json"];
type Problem = operations["joinContact"]["responses"][422]["content"]["application/problem+json"];

const contact: Contact = {
  id: 1001,
  customer_type: "M",
  billing_category: "REG",
  status: "A",
  first_name: "Ana",
  last_name: "Silva",
  email: "ana@example.org",
  address: { line1: "1 Main St", city: "Springfield", region: "IL", postal_code: "62701", country: "US" },
  tags: ["event-attendee"],
  autopay: false,
  email_opt_in: true,
  mail_opt_in: true,
  is_member: true,
  is_organization: false,
  join_date: "2024-04-01",
  paid_through: "2026-12-31",
  version: 3,
  created_at: "2024-04-01T10:00:00Z",
  updated_at: "2026-01-05T08:30:00Z",
};

const join: JoinBody = {
  billing_cycle: "Doctors' joins",
  billing_category: "REG",
  chapters: ["CHAPT/EAST"],
  voluntary: { SCHOLARSHIP: "25.00" },
  dry_run: true,
};
const joinById: JoinBody = { billing_cycle: 3 };

const query: ContactQuery = { customer_type: "M", is_member: true, limit: 50, q: "silva" };

const payment: Payment = { amount: "375.00", paid_on: "2026-04-12", method: "card", reference: null };

// What the API refuses, the types refuse too.
// @ts-expect-error billing_cycle is required
const noCycle: JoinBody = { billing_category: "REG" };
// @ts-expect-error a join does not take a customer type
const unknownField: JoinBody = { billing_cycle: 3, customer_type: "M" };
// @ts-expect-error the member id is a number
const textId: Contact = { ...contact, id: "1001" };
// @ts-expect-error a payment has a method
const noMethod: Payment = { amount: "10.00", paid_on: "2026-04-12" };

function paidThrough(page: ContactPage): string[] {
  return page.items.flatMap((c: Contact) => (c.paid_through ? [`${c.id}: ${c.paid_through}`] : []));
}

function describe(result: JoinResult): string {
  const lines = result.lines.map((line) => `${line.product} ${line.amount}`).join(", ");
  return `${result.treated_as} ${result.term_begin}..${result.term_end}: ${lines} (total ${result.total})`;
}

function problemFields(problem: Problem): string[] {
  return (problem.errors ?? []).map((e) => `${e.field}: ${e.message}`);
}

export const checks = [
  paidThrough({ items: [contact], next_cursor: null }),
  describe,
  problemFields,
  join,
  joinById,
  query,
  payment,
  noCycle,
  unknownField,
  textId,
  noMethod,
];
