// What the scripted node-smpp peers (client.js, server.js, esme.js, smppd_esme.js) share:
// their command lines, their JSON-lines output, and node-smpp's wire-level view of a PDU.
'use strict';

const smpp = require('smpp');

// parseArgs reads --name value and --name=value for the names defaults has; anything else
// exits with status 64.
function parseArgs(argv, defaults) {
	const opts = Object.assign({}, defaults);
	for (let i = 0; i < argv.length; i++) {
		const m = /^--([a-z-]+)(?:=(.*))?$/.exec(argv[i]);
		if (!m || !(m[1] in defaults)) {
			process.stderr.write(`unknown argument: ${argv[i]}\n`);
			process.exit(64);
		}
		opts[m[1]] = m[2] !== undefined ? m[2] : argv[++i];
	}
	return opts;
}

// emit writes one JSON line; stdout writes to a pipe are synchronous on Linux, so every line
// is flushed at once.
function emit(obj) {
	process.stdout.write(JSON.stringify(obj) + '\n');
}

// Keep the raw octets of every PDU node-smpp decodes (non-enumerable, so node-smpp ignores it).
const origFromBuffer = smpp.PDU.prototype.fromBuffer;
smpp.PDU.prototype.fromBuffer = function(buf) {
	Object.defineProperty(this, 'raw', {value: Buffer.from(buf), enumerable: false, writable: true});
	return origFromBuffer.call(this, buf);
};

// rawDecode is node-smpp's wire-level view of a PDU (its post-decode filters off): C-strings
// as strings, integers as numbers, octet strings as buffers.
function rawDecode(buf) {
	const saved = smpp.PDU.prototype._filter;
	smpp.PDU.prototype._filter = function() {};
	try {
		return smpp.PDU.fromBuffer(buf);
	} finally {
		smpp.PDU.prototype._filter = saved;
	}
}

// jsonValue turns a decoded value into JSON: buffers as lowercase hex, dates as ISO strings.
function jsonValue(v) {
	if (Buffer.isBuffer(v)) return v.toString('hex');
	if (v instanceof Date) return v.toISOString();
	if (Array.isArray(v)) return v.map(jsonValue);
	if (v && typeof v === 'object') {
		const o = {};
		for (const k of Object.keys(v)) o[k] = jsonValue(v[k]);
		return o;
	}
	return v;
}

module.exports = {smpp, parseArgs, emit, rawDecode, jsonValue};
