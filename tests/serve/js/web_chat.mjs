// The web chat page, driven in Debian's chromium by playwright-core: enter
// a key, pick a deployment, chat (the reply must arrive as several streamed
// deltas), then chat with a moderated deployment whose test policy cuts
// the reply mid-stream: the page must show that moderation intervened.
// Saves a screenshot. Run by tests/cli/serve_clients_test.sh:
//   node web_chat.mjs <node_modules parent> <base url> <key> <screenshot.png>
import assert from "node:assert/strict";
import path from "node:path";
import { createRequire } from "node:module";

const [dir, url, key, shot] = process.argv.slice(2);
const require = createRequire(path.join(dir, "package.json"));
const { chromium } = require("playwright-core");

const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
                                        args: ["--no-sandbox", "--disable-gpu"] });
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 760 } });
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.goto(url + "/");
  assert.equal(await page.title(), "shoggoth chat");

  await page.fill("#api-key", key);
  await page.press("#api-key", "Tab");  // commit: the page loads /v1/models
  await page.waitForSelector('#deployment option[value="chat"]', { state: "attached", timeout: 10_000 });
  const options = await page.$$eval("#deployment option", (os) => os.map((o) => o.value));
  assert.ok(options.includes("kids"), `deployments: ${options}`);

  async function say(deployment, text, nth) {
    await page.selectOption("#deployment", deployment);
    await page.fill("#prompt", text);
    await page.click("#send");
    const reply = page.locator(".msg.assistant").nth(nth);
    await reply.locator(".meta, .error-notice").first().waitFor({ timeout: 30_000 });
    return reply;
  }

  // The tiny random model samples its replies, and may end one at once (an
  // end token drawn first): a reply that is empty or too short to show
  // streaming is asked again, up to 3 times. A page that never streams, or
  // never shows text, fails all 3.
  let first, finish, text, chunks, n = 0;
  do {
    first = await say("chat", "hello there, how are you?", n++);
    finish = await first.getAttribute("data-finish");
    assert.ok(["stop", "length"].includes(finish), `finish: ${finish}`);
    text = await first.locator(".text").textContent();
    chunks = Number(await first.getAttribute("data-chunks"));
  } while ((text.length === 0 || chunks < 3) && n < 3);
  assert.ok(text.length > 0, "empty reply (3 tries)");
  assert.equal(await first.locator(".moderation-notice").count(), 0);
  // The page applied the reply as a stream of deltas, not one body.
  assert.ok(chunks >= 3, `the reply did not stream (${chunks} deltas, 3 tries)`);
  console.log(`ok    chat: ${JSON.stringify(text)} (${finish}, ${chunks} streamed deltas, try ${n})`);

  // The test policy cuts a reply after 12 bytes; a reply that ends (an end
  // token drawn) before that is never cut, so it is asked again, up to 5
  // times. A page or server that never reports the cut fails all 5.
  let second, secondFinish, m = 0;
  do {
    second = await say("kids", "tell me a long story", n++);
    secondFinish = await second.getAttribute("data-finish");
    assert.ok(["stop", "length", "content_filter"].includes(secondFinish), `finish: ${secondFinish}`);
  } while (secondFinish !== "content_filter" && ++m < 5);
  assert.equal(secondFinish, "content_filter", `the moderated reply was never cut (${m} tries)`);
  const notice = second.locator(".moderation-notice");
  await notice.waitFor();
  const noticeText = await notice.textContent();
  assert.match(noticeText, /Moderation refused the reply/);
  assert.match(await second.locator(".text").textContent(), /\[cut by test policy\]$/);
  console.log(`ok    moderated reply shows: ${JSON.stringify(noticeText)}`);

  assert.deepEqual(pageErrors, []);
  await page.screenshot({ path: shot, fullPage: true });
  console.log("ok    screenshot:", shot);
} finally {
  await browser.close();
}
console.log("web chat: all passed");
