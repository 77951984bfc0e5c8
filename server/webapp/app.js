// The members' page: see what is before you and act, each act signed on this device.
//
// The private key is an Ed25519 key made by the browser's Web Crypto, not extractable, kept in
// IndexedDB.  Every act is prepared by the server (which applies every rule) and comes back as
// the exact records and bytes to sign.  What the member is asked to approve is decoded from
// those records; before signing, the page checks that the bytes are exactly
// "governance-ledger/v1\n" + the RFC 8785 bytes of the records shown, so a server (or anything
// between) cannot show one thing and have another signed.  After submitting, the page reads
// the stored records back and checks they are the ones approved.
"use strict";

const DOMAIN = "governance-ledger/v1\n";
const state = { key: null, me: null, names: {}, streams: {}, roles: [] };

// --- small helpers ---------------------------------------------------------------------

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (name === "onclick") node.addEventListener("click", value);
    else if (name === "onsubmit") node.addEventListener("submit", value);
    else if (value === true) node.setAttribute(name, "");
    else if (value !== false && value !== null && value !== undefined) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
  }
  return node;
}

function say(text, error) {
  const status = document.getElementById("status");
  status.textContent = text;
  status.className = error ? "error" : "";
}

const hex = (bytes) => Array.from(new Uint8Array(bytes), (b) => b.toString(16).padStart(2, "0")).join("");
function b64(bytes) {
  const all = new Uint8Array(bytes);
  let text = "";
  for (let i = 0; i < all.length; i += 0x8000) text += String.fromCharCode(...all.subarray(i, i + 0x8000));
  return btoa(text);
}
const unb64 = (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

// RFC 8785 for the values records hold (strings, integers, booleans, null, arrays, objects):
// keys sorted by UTF-16 code units, strings as JSON.stringify writes them.
function canonical(value) {
  if (value === null || typeof value === "boolean") return JSON.stringify(value);
  if (typeof value === "number") {
    if (!Number.isSafeInteger(value)) throw new Error("a record holds a number that is not an integer");
    return String(value);
  }
  if (typeof value === "string") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
  return "{" + Object.keys(value).sort().map((k) => JSON.stringify(k) + ":" + canonical(value[k])).join(",") + "}";
}

async function api(path, body) {
  const answer = await fetch(path, body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const value = await answer.json().catch(() => ({ error: { code: "http", message: `the server answered ${answer.status}` } }));
  if (!answer.ok) {
    const error = new Error(value.error ? value.error.message : `the server answered ${answer.status}`);
    error.status = answer.status;
    throw error;
  }
  return value;
}

const query = (...argv) => api("/v1/query", { argv, format: "json" });

// --- the device key ----------------------------------------------------------------------

function database() {
  return new Promise((resolve, reject) => {
    const request = indexedDB.open("covenant-ledger", 1);
    request.onupgradeneeded = () => request.result.createObjectStore("keys");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function stored(action, value) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction("keys", action === "get" ? "readonly" : "readwrite");
    const request = action === "get" ? tx.objectStore("keys").get("device") : tx.objectStore("keys").put(value, "device");
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

async function describeKey(pair) {
  const raw = await crypto.subtle.exportKey("raw", pair.publicKey);
  const spki = await crypto.subtle.exportKey("spki", pair.publicKey);
  const keyId = hex(await crypto.subtle.digest("SHA-256", raw));
  const pem = "-----BEGIN PUBLIC KEY-----\n" + b64(spki) + "\n-----END PUBLIC KEY-----\n";
  return { pair, keyId, pem, fingerprint: keyId.slice(0, 16).match(/.{4}/g).join(" ") };
}

async function createKey() {
  // Not extractable: the private key can sign on this device and can never be read out.
  const pair = await crypto.subtle.generateKey({ name: "Ed25519" }, false, ["sign", "verify"]);
  await stored("put", { privateKey: pair.privateKey, publicKey: pair.publicKey });
  await start();
}

function showDevice() {
  const body = document.getElementById("device-body");
  body.replaceChildren();
  if (!state.key) {
    body.append(el("p", {}, "This device has no key yet. Create one: it stays in this browser and cannot be copied out."),
                el("button", { type: "button", id: "create-key", class: "primary", onclick: () => createKey().catch(fail) },
                   "Create this device's key"));
    return;
  }
  body.append(
    el("p", {}, "Key id: ", el("span", { class: "id", id: "key-id" }, state.key.keyId)),
    el("p", {}, "Fingerprint (read it to the secretariat, or check it on your other device): ",
       el("strong", { id: "fingerprint" }, state.key.fingerprint)),
    el("details", {}, el("summary", {}, "Public key, for enrolment"), el("pre", { id: "public-key" }, state.key.pem)));
  if (!state.me) {
    body.append(el("p", { id: "enrol-help" },
      "Not enrolled yet. Save the public key above as a file and enrol it from a device you already use: ",
      el("code", {}, "ledger keys register browser.pub --person \"Your Name\" --role member --key your.key"),
      ", or ask the secretariat, who checks the fingerprint with you first."));
  } else {
    body.append(el("p", { id: "whoami" }, `Enrolled: ${state.me.holder} (${state.me.roles.join(", ")}), key ${state.me.status}.`));
  }
}

// --- what is before the member -------------------------------------------------------------

async function start() {
  const saved = await stored("get");
  state.key = saved ? await describeKey(saved) : null;
  const keys = (await query("keys", "list")).keys;
  state.names = {};
  for (const k of keys) state.names[k.person] = state.names[k.person] || k.holder;
  state.me = state.key ? keys.find((k) => k.key_id === state.key.keyId) || null : null;
  if (state.me && state.me.status !== "active") state.me = null;
  state.roles = state.me ? state.me.roles : [];
  showDevice();
  const work = document.getElementById("work");
  work.replaceChildren();
  if (!state.me) { say(state.key ? "This device's key is not enrolled yet." : "Create this device's key to begin."); return; }
  await render(work);
  say(`Signed in as ${state.me.holder}.`);
}

const name = (person) => state.names[person] || person.slice(0, 12);
const secretariat = () => state.roles.includes("secretariat");

async function render(work) {
  const committees = (await query("committee", "list")).committees;
  const meetings = (await query("meeting", "list")).meetings;
  const motions = (await query("motion", "list")).motions;
  const mine = [];
  for (const c of committees) {
    const shown = await query("committee", "show", c.ref);
    state.streams[shown.stream] = shown.ref;
    if (secretariat() || Object.keys(shown.seats).includes(state.me.person)) mine.push(shown);
  }
  for (const committee of mine) {
    const section = el("section", { "aria-labelledby": `h-${committee.ref}` },
      el("h2", { id: `h-${committee.ref}` }, `${committee.name} (${committee.ref})`),
      el("p", { class: "muted" }, "Seats: " + Object.keys(committee.seats).map(name).join(", ")));
    if (secretariat()) section.append(scheduleForm(committee));
    // Upcoming and current meetings: not closed, starting within a day ago or later, or with an open motion.
    const current = new Set(motions.filter((m) => ["proposed", "seconded", "voting"].includes(m.status)).map((m) => m.meeting));
    const recent = (x) => Date.parse(x.starts_at) > Date.now() - 86400000 || current.has(x.ref);
    for (const m of meetings.filter((x) => x.committee === committee.ref && x.state === "scheduled" && recent(x))) {
      section.append(await meetingView(m.ref, committee));
    }
    work.append(section);
  }
  const open = motions.filter((m) => ["proposed", "seconded", "voting"].includes(m.status));
  const decided = motions.filter((m) => m.status === "closed").slice(-3);
  const list = el("section", { "aria-labelledby": "h-motions" }, el("h2", { id: "h-motions" }, "Motions"));
  if (!open.length) list.append(el("p", {}, "No motion is open."));
  for (const m of open) list.append(await motionView(m.ref));
  for (const m of decided) list.append(await motionView(m.ref));
  work.append(list);
  const confidential = await confidentialView();
  if (confidential) work.append(confidential);
  const consultations = (await query("consultation", "list")).consultations.filter((x) => x.status === "open");
  if (consultations.length) {
    const part = el("section", { "aria-labelledby": "h-cx" }, el("h2", { id: "h-cx" }, "Open consultations"));
    for (const x of consultations) part.append(await consultationView(x.ref));
    work.append(part);
  }
}

async function meetingView(ref, committee) {
  const m = await query("meeting", "show", ref);
  state.streams[m.stream] = m.ref;
  const box = el("article", { "aria-labelledby": `h-${ref}` },
    el("h3", { id: `h-${ref}` }, `Meeting ${ref}, ${m.starts_at.slice(0, 16).replace("T", " ")} UTC`),
    m.agenda.length ? el("ol", {}, m.agenda.map((i) => el("li", {}, i.title))) : el("p", {}, "No agenda yet."),
    el("p", {}, "Present: " + (m.present.length ? m.present.map(name).join(", ") : "not recorded yet")));
  const seated = Object.keys(committee.seats).filter((p) => p !== state.me.person);
  if (!secretariat() && seated.length) {
    const holder = el("select", { id: `proxy-${ref}`, name: "holder" }, seated.map((p) => el("option", { value: name(p) }, name(p))));
    box.append(form(`Give my vote at ${ref} to`, [labelled(`proxy-${ref}`, "Member who will vote for me", holder)],
      "Give my proxy", () => ["meeting", "proxy", ref, "--to", holder.value]));
    if (m.agenda.length) {
      const item = el("input", { id: `item-${ref}`, type: "number", min: "1", max: String(m.agenda.length), value: "1" });
      const text = el("textarea", { id: `text-${ref}`, rows: "2" });
      box.append(form(`Propose a motion at ${ref}`, [labelled(`item-${ref}`, "Agenda item", item),
        labelled(`text-${ref}`, "Motion text", text)], "Propose",
        () => ["motion", "propose", "--meeting", ref, "--item", item.value, "--text", text.value]));
      const citem = el("input", { id: `citem-${ref}`, type: "number", min: "1", max: String(m.agenda.length), value: "1" });
      const reason = el("input", { id: `reason-${ref}`, type: "text" });
      box.append(form(`Declare a conflict of interest at ${ref}`, [labelled(`citem-${ref}`, "Agenda item", citem),
        labelled(`reason-${ref}`, "Reason", reason)], "Declare",
        () => ["meeting", "conflict", ref, "--member", state.me.holder, "--item", citem.value, "--reason", reason.value]));
    }
  }
  if (secretariat()) {
    const items = el("textarea", { id: `agenda-${ref}`, rows: "3" });
    box.append(form(`Agenda of ${ref} (one item per line)`, [labelled(`agenda-${ref}`, "Items", items)], "Publish the agenda",
      () => ["meeting", "agenda", ref, ...items.value.split("\n").filter((l) => l.trim()).flatMap((l) => ["--item", l.trim()])]));
    const boxes = Object.keys(committee.seats).map((p) => {
      const id = `att-${ref}-${p.slice(0, 8)}`;
      return el("label", { class: "check", for: id }, el("input", { type: "checkbox", id, value: name(p), checked: m.present.includes(p) }), name(p));
    });
    const present = m.present.map(name);
    box.append(form(`Attendance at ${ref}`, boxes, "Record attendance", () => ["meeting", "attend", ref,
      ...boxes.map((l) => l.querySelector("input")).filter((i) => i.checked && !present.includes(i.value))
        .flatMap((i) => ["--member", i.value])]));
    box.append(el("p", {}, el("button", { type: "button", onclick: () => act(["meeting", "close", ref]) }, `Close ${ref}`)));
  }
  return box;
}

async function motionView(ref) {
  const m = await query("motion", "show", ref);
  state.streams[m.stream] = m.ref;
  const voted = Object.entries(m.votes || {}).map(([p, c]) => `${name(p)}: ${c}`);
  const rule = m.snapshot && m.snapshot.rule ? `rule: quorum ${m.snapshot.rule.quorum}, threshold ${m.snapshot.rule.threshold} of ${m.snapshot.rule.base || "cast"}` : `class ${m.decision_class}`;
  const box = el("article", { "aria-labelledby": `h-${ref}` },
    el("h3", { id: `h-${ref}` }, `${ref} (${m.status}${m.result ? ": " + m.result : ""})`),
    el("p", {}, m.text), el("p", { class: "muted" }, `At ${m.meeting}, item ${m.item}; ${rule}.`),
    el("p", {}, "Votes so far: " + (voted.length ? voted.join("; ") : "none")));
  if (m.status === "closed" && m.tally) {
    box.append(el("p", { id: `result-${ref}` }, `Result: ${m.result} (${m.tally.yes} yes, ${m.tally.no} no, ${m.tally.abstain} abstain).`));
  }
  const buttons = el("p", {});
  if (m.status === "voting") {
    for (const choice of ["yes", "no", "abstain"]) {
      buttons.append(el("button", { type: "button", "data-vote": `${ref}:${choice}`, onclick: () => act(["motion", "vote", ref, choice]) },
                        `Vote ${choice} on ${ref}`));
    }
  }
  if (m.status === "proposed" && m.proposer !== state.me.person && !secretariat()) {
    buttons.append(el("button", { type: "button", onclick: () => act(["motion", "second", ref]) }, `Second ${ref}`));
  }
  if (secretariat() && ["proposed", "seconded"].includes(m.status)) {
    buttons.append(el("button", { type: "button", onclick: () => act(["motion", "open", ref]) }, `Open the vote on ${ref}`));
  }
  if (secretariat() && m.status === "voting") {
    buttons.append(el("button", { type: "button", onclick: () => act(["motion", "close", ref]) }, `Close the vote on ${ref}`));
  }
  box.append(buttons);
  if (secretariat() && m.status === "voting") {
    const members = (m.snapshot.present || []).map((p) => el("option", { value: name(p) }, name(p)));
    const who = el("select", { id: `roll-${ref}` }, members);
    const choice = el("select", { id: `rollc-${ref}` }, ["yes", "no", "abstain"].map((c) => el("option", { value: c }, c)));
    box.append(form(`Roll call on ${ref} (a member who voted in the room)`,
      [labelled(`roll-${ref}`, "Member", who), labelled(`rollc-${ref}`, "Vote", choice)], "Record the vote",
      () => ["motion", "vote", ref, choice.value, "--member", who.value]));
  }
  if (m.status === "closed" && !secretariat() && (m.snapshot.seated || []).includes(state.me.person)) {
    const text = el("textarea", { id: `dissent-${ref}`, rows: "2" });
    box.append(form(`A statement on ${ref}`, [labelled(`dissent-${ref}`, "Statement", text)], "Attach my statement",
      () => ["motion", "dissent", ref, "--statement", text.value]));
  }
  return box;
}

async function consultationView(ref) {
  const x = await query("consultation", "show", ref);
  state.streams[x.stream] = x.ref;
  const section = el("select", { id: `sec-${ref}` }, x.sections.map((s) => el("option", { value: s.number }, `Section ${s.number}`)));
  const text = el("textarea", { id: `cx-${ref}`, rows: "3" });
  return el("article", { "aria-labelledby": `h-${ref}` }, el("h3", { id: `h-${ref}` }, `${ref}: ${x.title}`),
    el("ol", {}, x.sections.map((s) => el("li", { value: s.number }, s.text))),
    form(`Comment on ${ref}`, [labelled(`sec-${ref}`, "Section", section), labelled(`cx-${ref}`, "Comment", text)],
      "Send my comment", () => ["consultation", "comment", ref, "--section", section.value, "--text", text.value]));
}

// --- confidential channels: sealed here, to the channel's recipients -----------------------

async function confidentialView() {
  const { channels, origin } = await query("feedback", "channels");
  const open = channels.filter((c) => c.members_submit && c.recipients.length);
  if (!open.length || !window.ageKit) return null;
  const part = el("section", { "aria-labelledby": "h-voices" }, el("h2", { id: "h-voices" }, "Confidential channels"),
    el("p", {}, "What you write is sealed on this device to the channel's recipients: the ledger and the server keep only the sealed file. You get a receipt code, shown once, to follow up."));
  for (const channel of open) {
    const id = `fb-${channel.channel}`;
    const text = el("textarea", { id, rows: "4" });
    part.append(el("form", { onsubmit: (e) => { e.preventDefault(); sealAndSend(channel, origin, text.value).catch(fail); } },
      el("fieldset", {}, el("legend", {}, `Channel ${channel.channel}`), labelled(id, "What you want to say", text),
        el("button", { type: "submit" }, `Seal and send to ${channel.channel}`))));
  }
  return part;
}

function receiptCode() {
  // 25 random decimal digits in groups of five (ledger/receipts.py), drawn without bias.
  const digits = [];
  while (digits.length < 25) {
    for (const byte of crypto.getRandomValues(new Uint8Array(32))) if (byte < 250 && digits.length < 25) digits.push(byte % 10);
  }
  return digits.join("").match(/.{5}/g).join(" ");
}

async function sealAndSend(channel, origin, text) {
  if (!text.trim()) throw new Error("write something to send");
  say("Sealing on this device…");
  const code = receiptCode();
  const digits = new TextEncoder().encode(code.replace(/ /g, ""));
  const derive = (label) => ageKit.scryptAsync(digits,
    new TextEncoder().encode(`covenant-ledger receipt ${label}\n${origin}\n${channel.channel}`), { N: 32768, r: 8, p: 1, dkLen: 32 });
  const lookup = hex(await derive("lookup"));
  const identity = ageKit.bech32.encode("age-secret-key-", ageKit.bech32.toWords(await derive("reply")), false).toUpperCase();
  const replyTo = await ageKit.identityToRecipient(identity);
  const encrypter = new ageKit.Encrypter();
  for (const recipient of channel.recipients) encrypter.addRecipient(recipient);
  const sealed = await encrypter.encrypt(text);
  const argv = ["feedback", "submit", "--covenant", channel.covenant, "--channel", channel.channel, "--sealed-file", "sealed.age",
    ...channel.recipients.flatMap((r) => ["--recipient", r]), "--lookup", lookup, "--reply-to", replyTo];
  await act(argv, { "sealed.age": b64(sealed) }, () => {
    const receipt = document.getElementById("receipt");
    receipt.textContent = `Your receipt code: ${code}. Keep it: it is the only way to follow up and read replies, and it is shown only now.`;
    receipt.hidden = false;
  });
}

function labelled(id, text, input) {
  return el("div", {}, el("label", { for: id }, text), input);
}

function form(title, fields, button, argv) {
  return el("form", { onsubmit: (e) => { e.preventDefault(); act(argv()); } },
    el("fieldset", {}, el("legend", {}, title), fields, el("button", { type: "submit" }, button)));
}

function scheduleForm(committee) {
  const id = `at-${committee.ref}`;
  const at = el("input", { id, type: "datetime-local", step: "1" });
  const urgent = el("input", { type: "checkbox", id: `urgent-${committee.ref}` });
  return form(`Schedule a meeting of ${committee.ref}`, [labelled(id, "Starts at (UTC)", at),
    el("label", { class: "check", for: `urgent-${committee.ref}` }, urgent, "Urgent (waives the agenda notice)")],
    "Schedule", () => ["meeting", "schedule", "--committee", committee.ref, "--at",
      (at.value.length === 16 ? at.value + ":00" : at.value) + "Z", ...(urgent.checked ? ["--urgent"] : [])]);
}

// --- acting: prepare, approve, sign here, submit -------------------------------------------

function describe(record) {
  // In words, from the record itself: its type, its stream and its data.
  const d = record.data, where = state.streams[record.stream] || `stream ${record.stream.slice(0, 8)}`;
  switch (record.type) {
    case "motion.vote_cast":
      return `Vote ${d.choice.toUpperCase()} on ${where}` + (d.proxy ? ` for ${name(d.member)}, by proxy` :
        d.on_behalf ? ` for ${name(d.member)} (roll call)` : ", your own vote");
    case "motion.proposed": return `Propose motion ${d.ref} at ${d.meeting}, item ${d.item}: "${d.text}"`;
    case "motion.seconded": return `Second ${where}`;
    case "motion.vote_opened": return `Open the vote on ${where}`;
    case "motion.closed": return `Close the vote on ${where}: ${d.result} (${d.explanation})`;
    case "motion.dissent_attached": return `Attach to ${where} the statement: "${d.statement}"`;
    case "meeting.proxy_given": return `Give your vote at ${where} to ${name(d.holder)}` + (d.motion ? ` for ${d.motion}` : "");
    case "meeting.conflict_declared": return `Declare a conflict on item(s) ${(d.items || []).join(", ")} at ${where}: "${d.reason}"`;
    case "meeting.attendance_recorded": case "meeting.arrived":
      return `Record at ${where} as present: ${(d.members || d.present || []).map(name).join(", ")}`;
    case "meeting.agenda_published": return `Publish the agenda of ${where}: ${(d.items || []).map((i) => i.title).join("; ")}`;
    case "meeting.closed": return `Close meeting ${where}`;
    case "meeting.scheduled": return `Schedule meeting ${d.ref} at ${d.starts_at.slice(0, 16).replace("T", " ")} UTC` + (d.urgent ? " (urgent)" : "");
    case "committee.meeting_scheduled": return `Note the meeting in committee ${where}`;
    case "comment.submitted": return `Comment on section ${d.section} of ${where}: "${d.text}"`;
    case "feedback.submitted": {
      const keys = d.content.sealed.recipients.length;
      return `Send to the confidential channel ${d.channel}: sealed on this device to ${keys} recipient key${keys === 1 ? "" : "s"}; the text is not in the record`;
    }
    default: return `${record.type} on ${where}: ${canonical(d)}`;
  }
}

function approve(records) {
  const box = document.getElementById("confirm");
  const list = document.getElementById("confirm-list");
  list.replaceChildren(...records.map((r) => el("li", {}, describe(r.record))));
  box.hidden = false;
  document.getElementById("confirm-sign").focus();
  return new Promise((resolve) => {
    const done = (answer) => { box.hidden = true; sign.removeEventListener("click", yes); cancel.removeEventListener("click", no); resolve(answer); };
    const sign = document.getElementById("confirm-sign"), cancel = document.getElementById("confirm-cancel");
    const yes = () => done(true), no = () => done(false);
    sign.addEventListener("click", yes);
    cancel.addEventListener("click", no);
  });
}

async function signItem(item) {
  // The display-from-record rule: sign only bytes that are exactly the record shown.
  const expected = new TextEncoder().encode(DOMAIN + canonical(item.record));
  const message = unb64(item.message);
  if (expected.length !== message.length || expected.some((b, i) => b !== message[i])) {
    throw new Error("the bytes to sign are not the record shown; nothing was signed");
  }
  if (item.record.actor !== state.key.keyId) throw new Error("asked to sign in someone else's name; nothing was signed");
  const signature = await crypto.subtle.sign({ name: "Ed25519" }, state.key.pair.privateKey, message);
  return b64(signature);
}

async function act(argv, files, after) {
  try {
    for (let attempt = 1; attempt <= 5; attempt++) {
      say("Preparing…");
      const body = { argv, key: state.key.keyId, signatures: {} };
      if (files) body.files = files;
      let prepared = await api("/v1/prepare", body);
      body.at = prepared.at;
      body.sealed = prepared.sealed || [];
      body.codes = prepared.codes || [];
      if (!(await approve(prepared.records))) { say("Nothing was signed."); return; }
      const approved = prepared.records.map((r) => canonical(r.record));
      for (;;) {
        for (const item of prepared.sign) body.signatures[item.message_sha256] = await signItem(item);
        if (prepared.complete) break;
        prepared = await api("/v1/prepare", body);
      }
      try {
        const done = await api("/v1/submit", body);
        await checkRecorded(done.event_hashes, approved);
        await start();
        say(`Done: ${(done.output || "").trim()}`);
        if (after) after();
        return;
      } catch (error) {
        if (error.status === 409 && attempt < 5) continue;  // the log moved on: prepare again
        throw error;
      }
    }
  } catch (error) {
    fail(error);
  }
}

async function checkRecorded(hashes, approved) {
  // Read back what the ledger stored and compare it with what the member approved.
  for (let i = 0; i < hashes.length; i++) {
    const shown = await query("show", hashes[i]);
    const stored = Object.fromEntries(Object.entries(shown.record || shown).filter(([k]) => ["v", "ledger", "stream", "seq", "type", "at", "actor", "prev", "data"].includes(k)));
    if (approved[i] !== undefined && canonical(stored) !== approved[i]) {
      throw new Error("the ledger recorded something other than what you approved: tell the secretariat and the auditors");
    }
  }
}

function fail(error) {
  say(`Error: ${error.message}`, true);
}

document.addEventListener("DOMContentLoaded", () => {
  if (!window.crypto || !crypto.subtle || !window.indexedDB) { say("This browser cannot keep a signing key (Web Crypto and IndexedDB are needed).", true); return; }
  start().catch(fail);
});
