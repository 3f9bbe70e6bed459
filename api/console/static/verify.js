/* Verifies an attestation bundle in the browser with WebCrypto, trusting nothing the
   server says about it (the same checks as ledger/attestation/verification.py and
   `consent-ledger verify`):
   1. the checkpoint's C2SP signed note verifies with the ledger's Ed25519 public key
      (GET /v1/public-key; key id = SHA-256(name || 0x0A || 0x01 || key)[:4]), and the
      bundle's copies of tree size and root hash agree with the signed text;
   2. events run from v1 with no gap, each belongs to the subject, its hash is SHA-256 of
      its canonical JSON (RFC 8785) without hash and proof fields, its prev_hash is the hash
      of the version before (64 zeros for v1), its leaf hash is SHA-256(0x00 || canonical
      JSON of the event object) and its inclusion proof leads to the checkpoint's root
      (RFC 6962: node = SHA-256(0x01 || left || right)); the newest events may be recorded
      after the checkpoint: then the badge says "Not sealed yet" (amber) for them;
   3. every disclosure opens its commitment: SHA-256(salt || value).
   No external code, no eval: allowed by the console's Content-Security-Policy. */
"use strict";
(function () {
  var PROOF_FIELDS = ["leaf_index", "leaf_hash", "inclusion_proof"];
  var GENESIS = "0".repeat(64);
  var utf8 = new TextEncoder();

  function Failure(reason, version) {
    this.reason = reason;
    this.version = version;
  }
  function fail(reason, version) {
    throw new Failure(reason, version);
  }
  function hex(buffer) {
    return Array.from(new Uint8Array(buffer), function (b) {
      return b.toString(16).padStart(2, "0");
    }).join("");
  }
  function fromHex(text) {
    if (typeof text !== "string" || !/^([0-9a-f]{2})*$/.test(text)) fail("not a hex string");
    var out = new Uint8Array(text.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
    return out;
  }
  function fromBase64(text) {
    var raw = atob(text);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }
  function concat() {
    var parts = Array.prototype.slice.call(arguments);
    var size = parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(size), at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }
  function equalBytes(a, b) {
    if (a.length !== b.length) return false;
    for (var i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }
  async function sha256(bytes) {
    return new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  }

  /* RFC 8785: keys sorted by UTF-16 code units (Array.sort's default), no whitespace,
     strings and numbers as ECMAScript's JSON.stringify writes them. */
  function canonical(value) {
    if (value === null || typeof value !== "object") return JSON.stringify(value);
    if (Array.isArray(value)) return "[" + value.map(canonical).join(",") + "]";
    return "{" + Object.keys(value).sort().map(function (key) {
      return JSON.stringify(key) + ":" + canonical(value[key]);
    }).join(",") + "}";
  }
  function without(entry, names) {
    var copy = {};
    Object.keys(entry).forEach(function (k) { if (names.indexOf(k) < 0) copy[k] = entry[k]; });
    return copy;
  }

  async function verifyInclusion(leaf, index, size, proof, root) {
    if (!(index >= 0 && index < size)) return false;
    var fn = index, sn = size - 1, r = leaf;
    var NODE = new Uint8Array([1]);
    for (var i = 0; i < proof.length; i++) {
      var p = fromHex(proof[i]);
      if (sn === 0) return false;
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat(NODE, p, r));
        if (fn % 2 === 0) {
          while (fn !== 0 && fn % 2 === 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
        }
      } else {
        r = await sha256(concat(NODE, r, p));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 && equalBytes(r, root);
  }

  function parseVerifierKey(text) {
    var first = text.indexOf("+"), second = text.indexOf("+", first + 1);
    var name = text.slice(0, first), raw = fromBase64(text.slice(second + 1));
    if (raw.length !== 33 || raw[0] !== 1) fail("the public key is not an Ed25519 verifier key");
    return { name: name, idHex: text.slice(first + 1, second), raw: raw.slice(1) };
  }

  async function openCheckpoint(data, verifierKey) {
    if (!data || typeof data.note !== "string") fail("checkpoint: the bundle carries no signed checkpoint");
    var note = data.note, separator = note.lastIndexOf("\n\n");
    if (separator < 0) fail("checkpoint: not a signed note");
    var text = note.slice(0, separator + 1);
    var lines = note.slice(separator + 2).split("\n").filter(function (l) { return l; });
    var key = parseVerifierKey(verifierKey);
    var keyId = (await sha256(concat(utf8.encode(key.name + "\n"), new Uint8Array([1]), key.raw))).slice(0, 4);
    var signed = false, signatureChecked = false;
    for (var i = 0; i < lines.length; i++) {
      var line = lines[i];
      if (line.indexOf("\u2014 ") !== 0) fail("checkpoint: malformed signature line");
      var rest = line.slice(2), space = rest.indexOf(" ");
      var name = rest.slice(0, space), blob = fromBase64(rest.slice(space + 1));
      if (name !== key.name || !equalBytes(blob.slice(0, 4), keyId)) continue;
      signed = true;
      var publicKey = null;
      try {
        publicKey = await crypto.subtle.importKey("raw", key.raw, { name: "Ed25519" }, false, ["verify"]);
      } catch (unsupported) {
        publicKey = null; // this browser has no Ed25519 in WebCrypto
      }
      if (publicKey !== null) {
        var ok = await crypto.subtle.verify({ name: "Ed25519" }, publicKey, blob.slice(4), utf8.encode(text));
        if (!ok) fail("checkpoint: the signature does not verify: the note was altered or forged");
        signatureChecked = true;
      }
    }
    if (!signed) fail("checkpoint: the note is not signed by the ledger's public key (" + hex(keyId) + ")");
    var parts = text.split("\n");
    var origin = parts[0], size = parts[1], root = fromBase64(parts[2]);
    var time = (parts.filter(function (l) { return l.indexOf("time ") === 0; })[0] || "").slice(5);
    if (!/^(0|[1-9][0-9]*)$/.test(size)) fail("checkpoint: the tree size is not a number");
    if (origin !== key.name) fail("checkpoint: signed under another name than its origin");
    if ("tree_size" in data && data.tree_size !== Number(size)) fail("checkpoint: tree_size differs from the signed note's");
    if ("root_hash" in data && data.root_hash !== hex(root)) fail("checkpoint: root_hash differs from the signed note's");
    return { origin: origin, size: Number(size), root: root, time: time, keyId: hex(keyId), signatureChecked: signatureChecked };
  }

  async function verifyBundle(bundle, verifierKey) {
    if (!bundle || typeof bundle !== "object") fail("the bundle is not a JSON object");
    var checkpoint = await openCheckpoint(bundle.checkpoint, verifierKey);
    var subject = bundle.subject, entries = bundle.events;
    if (!subject || !Array.isArray(entries)) fail("the bundle has no subject or no events list");
    if (entries.length === 0) fail("the bundle holds no events: there is nothing to verify");
    var previousHash = GENESIS, previousLeaf = -1, byId = {}, unsealedFrom = null;
    for (var i = 0; i < entries.length; i++) {
      var entry = entries[i], expected = i + 1;
      if (entry.missing) fail("missing from the ledger, although the log sealed it: it was removed", expected);
      if (entry.unreadable) fail("cannot be read from the ledger", expected);
      if (entry.version !== expected) fail("v" + expected + " is missing or out of order", expected);
      if (entry.subject_id !== subject.subject_id) fail("it belongs to another subject", expected);
      var document = without(entry, PROOF_FIELDS.concat(["hash"]));
      if (hex(await sha256(utf8.encode(canonical(document)))) !== entry.hash) {
        fail("its hash does not match its contents: the event was altered", expected);
      }
      if (entry.prev_hash !== previousHash) fail("its prev_hash is not the hash of v" + (expected - 1) + ": the chain is broken", expected);
      var covered = typeof entry.leaf_index === "number" && Array.isArray(entry.inclusion_proof);
      if (!covered) {
        // Recorded after the checkpoint was signed: chained, not sealed yet. Only the
        // newest events may be so; a sealed event after an unsealed one is refused.
        if (unsealedFrom === null) unsealedFrom = expected;
      } else {
        if (unsealedFrom !== null) fail("sealed after an event that is not: the events were reordered", expected);
        if (entry.leaf_index <= previousLeaf) fail("its leaf comes before the previous event's: reordered", expected);
        var leaf = await sha256(concat(new Uint8Array([0]), utf8.encode(canonical(without(entry, PROOF_FIELDS)))));
        if (entry.leaf_hash !== hex(leaf)) fail("it differs from what the log sealed at leaf " + entry.leaf_index, expected);
        if (!(await verifyInclusion(leaf, entry.leaf_index, checkpoint.size, entry.inclusion_proof, checkpoint.root))) {
          fail("its inclusion proof does not lead to the checkpoint's root", expected);
        }
        previousLeaf = entry.leaf_index;
      }
      previousHash = entry.hash; byId[entry.event_id] = entry;
    }
    var disclosures = bundle.disclosures || [];
    for (var j = 0; j < disclosures.length; j++) {
      var item = disclosures[j], event = byId[item.event_id];
      if (!event) fail("a disclosure names an unknown event");
      var commitment = (event.commitments || {})[item.field];
      var opened = hex(await sha256(concat(fromHex(item.salt), utf8.encode(item.value))));
      if (opened !== commitment) fail("the disclosed " + item.field + " does not open its commitment", event.version);
    }
    return { events: entries.length, disclosures: disclosures.length, checkpoint: checkpoint, unsealedFrom: unsealedFrom };
  }

  function show(result, text) {
    var badge = document.getElementById("badge");
    badge.className = "badge " + { verified: "ok", failed: "failed", unsealed: "unsealed" }[result];
    badge.dataset.result = result;
    document.getElementById("badge-text").textContent = text;
  }

  async function check(bundle, label) {
    try {
      var key = await (await fetch("/v1/public-key", { credentials: "omit" })).json();
      var report = await verifyBundle(bundle, key.verifier_key);
      var cp = report.checkpoint;
      var signature = cp.signatureChecked
        ? "Ed25519 signature checked"
        : "Ed25519 signature NOT checked (this browser lacks Ed25519 in WebCrypto)";
      var tail = "; " + signature + " with key " + cp.keyId + ".";
      if (report.unsealedFrom !== null) {
        var sealed = report.unsealedFrom - 1;
        show("unsealed", "Not sealed yet" + label + ": the hash chain v1-v" + report.events + " and " +
          report.disclosures + " disclosures verified, " + sealed + " inclusion proofs against checkpoint " +
          cp.origin + " tree size " + cp.size + "; v" + report.unsealedFrom + "-v" + report.events +
          " were recorded after that checkpoint: reload after the next seal" + tail);
        return;
      }
      show("verified", "Verified in this browser" + label + ": " + report.events + " events (hash chain v1-v" +
        report.events + "), " + report.events + " inclusion proofs and " + report.disclosures +
        " disclosures against checkpoint " + cp.origin + " tree size " + cp.size + " of " + cp.time + tail);
    } catch (error) {
      var reason = error instanceof Failure
        ? (error.version ? "event v" + error.version + ": " : "") + error.reason
        : String(error);
      show("failed", "FAILED" + label + ": " + reason);
    }
  }

  var badge = document.getElementById("badge");
  if (badge) {
    fetch(badge.dataset.bundle, { credentials: "same-origin" })
      .then(function (r) { return r.json(); })
      .then(function (bundle) { return check(bundle, ""); })
      .catch(function (error) { show("failed", "FAILED: the bundle could not be read: " + error); });
    var input = document.getElementById("bundle-file");
    input.addEventListener("change", function () {
      var file = input.files[0];
      if (!file) return;
      file.text().then(function (text) {
        var bundle;
        try { bundle = JSON.parse(text); } catch (e) { show("failed", "FAILED (" + file.name + "): not JSON"); return; }
        return check(bundle, " (" + file.name + ")");
      });
    });
  }
})();
