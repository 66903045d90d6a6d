// Swagger UI as a person uses it, in headless Chromium driven by playwright-core: open
// <base>/swagger-ui/, Authorize with a staff bearer token, expand "List contacts"
// (GET /api/v1/contacts), Try it out, Execute, and see a live 200 response with a list.
// Screenshot in target/swagger-ui.png, or target/swagger-ui-failure.png when a step fails.
// Run by .ci/swagger-ui.
//   usage: node .ci/swagger_ui.mjs BASE_URL   (the token in AMS_CI_TOKEN)
import { createRequire } from "node:module";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const require = createRequire(new URL("../target/ci-npm/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const base = (process.argv[2] ?? "").replace(/\/$/, "");
const token = process.env.AMS_CI_TOKEN;
if (!base || !token) {
  console.error("usage: AMS_CI_TOKEN=<staff token> node .ci/swagger_ui.mjs BASE_URL");
  process.exit(2);
}
const operation = "#operations-contacts-listContacts";
const screenshots = new URL("../target/", import.meta.url).pathname;

const step = (text) => console.log(`ok  ${text}`);
// A button by the words it shows, as a person finds it.
const button = (scope, text) => scope.locator("button", { hasText: new RegExp(`^\\s*${text}\\s*$`) });

const profile = mkdtempSync(join(tmpdir(), "swagger-ui-chromium-"));
let context;
let page;
let status = 1;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
    viewport: { width: 1280, height: 1000 },
  });
  context.setDefaultTimeout(15_000);
  page = context.pages()[0] ?? (await context.newPage());
  const pageErrors = [];
  page.on("pageerror", (error) => pageErrors.push(error.message));

  await page.goto(`${base}/swagger-ui/`);
  await page.locator(operation).waitFor();
  step(`${base}/swagger-ui/ shows the document (${await page.locator(".opblock").count()} operations)`);

  await page.locator(".scheme-container button.authorize").click();
  const dialog = page.locator(".dialog-ux .modal-ux");
  await dialog.waitFor();
  await dialog.getByLabel("Value").fill(token);
  await button(dialog, "Authorize").click();
  await button(dialog, "Logout").waitFor();
  await button(dialog, "Close").click();
  await dialog.waitFor({ state: "detached" });
  step("Authorize: bearer token entered, dialog closed");

  const block = page.locator(operation);
  await block.locator(".opblock-summary").first().click();
  await button(block, "Try it out").click();
  await button(block, "Execute").click();
  step("GET /api/v1/contacts: expanded, Try it out, Execute");

  const live = block.locator(".live-responses-table .response").first();
  await live.waitFor();
  const code = (await live.locator(".response-col_status").first().innerText()).trim();
  const body = await live.locator(".response-col_description").first().innerText();
  if (code !== "200") {
    throw new Error(`the live response is ${code}, not 200: ${body.slice(0, 400)}`);
  }
  if (!body.includes('"items"')) {
    throw new Error(`the live 200 response shows no contact list: ${body.slice(0, 400)}`);
  }
  const curl = await block.locator(".curl-command").first().innerText().catch(() => "");
  if (!/authorization: Bearer /i.test(curl)) {
    throw new Error(`the request Swagger UI shows carries no bearer token: ${curl}`);
  }
  step("the live response is 200 with a contact list, sent with the bearer token");
  if (pageErrors.length) {
    throw new Error(`JavaScript errors on the page: ${pageErrors.join("; ")}`);
  }

  // The viewport from the Execute button down: the curl command, the request URL, the live 200.
  await button(block, "Execute").evaluate((element) => element.scrollIntoView({ block: "start" }));
  await page.screenshot({ path: `${screenshots}swagger-ui.png` });
  step("screenshot: target/swagger-ui.png");
  status = 0;
} catch (error) {
  console.error(`Swagger UI check FAILED: ${error.message}`);
  if (page) {
    await page
      .screenshot({ path: `${screenshots}swagger-ui-failure.png` })
      .then(() => console.error("screenshot: target/swagger-ui-failure.png"))
      .catch((e) => console.error(`no screenshot: ${e.message}`));
  }
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
process.exit(status);
