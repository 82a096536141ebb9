// The official `openai` npm client against a running `shoggoth serve`:
// list models, chat (plain and streamed, with usage), completions, and the
// client's typed errors for 401, 403, 404 and 400. Run by
// tests/cli/serve_clients_test.sh:
//   node openai_client.mjs <node_modules parent> <base url> <public key> <research key>
import assert from "node:assert/strict";
import path from "node:path";
import { createRequire } from "node:module";

const [dir, url, publicKey, researchKey] = process.argv.slice(2);
const require = createRequire(path.join(dir, "package.json"));
const { OpenAI } = require("openai");

const client = (apiKey) => new OpenAI({ baseURL: url + "/v1", apiKey, maxRetries: 0, timeout: 60_000 });
const pub = client(publicKey), research = client(researchKey);

// Models: the public tier sees chat, not the raw base model.
const ids = [];
for await (const m of pub.models.list()) ids.push(m.id);
assert.ok(ids.includes("chat"), `models: ${ids}`);
assert.ok(!ids.includes("base"), `public key sees base: ${ids}`);
const rids = [];
for await (const m of research.models.list()) rids.push(m.id);
assert.ok(rids.includes("base"), `research models: ${rids}`);
console.log("ok    models.list:", ids.join(", "));

// Chat, not streamed.
const messages = [{ role: "user", content: "hello there, how are you?" }];
const chat = await pub.chat.completions.create({ model: "chat", messages, max_tokens: 12, seed: 7, ignore_eos: true });
assert.equal(chat.object, "chat.completion");
assert.equal(chat.choices.length, 1);
assert.equal(chat.choices[0].message.role, "assistant");
assert.equal(typeof chat.choices[0].message.content, "string");
assert.equal(chat.choices[0].finish_reason, "length");
assert.equal(chat.usage.completion_tokens, 12);
assert.equal(chat.usage.total_tokens, chat.usage.prompt_tokens + 12);
console.log("ok    chat.completions.create:", JSON.stringify(chat.choices[0].message.content));

// Chat, streamed: the same text from the same seed, then a usage chunk.
const stream = await pub.chat.completions.create({
  model: "chat", messages, max_tokens: 12, seed: 7, ignore_eos: true, stream: true,
  stream_options: { include_usage: true },
});
let text = "", finish = null, usage = null, chunks = 0;
for await (const chunk of stream) {
  assert.equal(chunk.object, "chat.completion.chunk");
  chunks++;
  if (chunk.usage) usage = chunk.usage;
  const c = chunk.choices[0];
  if (!c) continue;
  text += c.delta.content ?? "";
  if (c.finish_reason) finish = c.finish_reason;
}
assert.equal(text, chat.choices[0].message.content);
assert.equal(finish, "length");
assert.ok(usage && usage.completion_tokens === 12, JSON.stringify(usage));
assert.ok(chunks >= 4, `only ${chunks} chunks`);
console.log(`ok    chat streaming: ${chunks} chunks, same text, usage`);

// Completions (plain and streamed).
const comp = await research.completions.create({ model: "base", prompt: "the quick brown", max_tokens: 5, seed: 3,
                                                 ignore_eos: true });
assert.equal(comp.object, "text_completion");
assert.equal(comp.choices[0].finish_reason, "length");
assert.equal(comp.usage.completion_tokens, 5);
let ctext = "";
for await (const c of await research.completions.create({ model: "base", prompt: "the quick brown", max_tokens: 5,
                                                            seed: 3, ignore_eos: true, stream: true }))
  ctext += c.choices[0]?.text ?? "";
assert.equal(ctext, comp.choices[0].text);
console.log("ok    completions.create, plain and streamed:", JSON.stringify(comp.choices[0].text));

// Errors arrive as the client's typed errors, with the server's message.
async function expectError(cls, status, fn) {
  try {
    await fn();
  } catch (e) {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${e.constructor.name}: ${e.message}`);
    assert.equal(e.status, status);
    return e;
  }
  assert.fail(`expected ${cls.name}`);
}
const { AuthenticationError, PermissionDeniedError, NotFoundError, BadRequestError } = require("openai");
await expectError(AuthenticationError, 401, () => client("shog-bad").models.list());
const denied = await expectError(PermissionDeniedError, 403,
  () => pub.chat.completions.create({ model: "base", messages, max_tokens: 2 }));
assert.match(denied.message, /tier "public"/);
await expectError(NotFoundError, 404, () => pub.chat.completions.create({ model: "gpt-9", messages }));
const bad = await expectError(BadRequestError, 400,
  () => pub.chat.completions.create({ model: "chat", messages, temperature: -1 }));
assert.equal(bad.param, "temperature");
console.log("ok    errors: 401, 403, 404, 400 as typed client errors");
console.log("openai client: all passed");
