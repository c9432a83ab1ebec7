#!/usr/bin/env node
// cdp.js PORT - drives the first page of a Chromium started with
// --remote-debugging-port, over the DevTools protocol (a WebSocket, spoken
// here with Node's own modules only). Reads one command a line on stdin
// and answers each with one line on stdout, "ok JSON" or "error TEXT":
//   eval EXPR                   the value of EXPR in the page (promises awaited)
//   wait SECONDS EXPR           waits until EXPR is true (checked every 100 ms)
//   key KEY                     a key press: " ", ArrowLeft, ArrowRight...
//   shot WIDTH HEIGHT FILE      the page at that size, as a PNG in FILE
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const http = require('http');
const readline = require('readline');

const port = Number(process.argv[2]);

function getJSON(path) {
	return new Promise((resolve, reject) => {
		http.get({ host: '127.0.0.1', port, path }, (res) => {
			let body = '';
			res.on('data', (c) => { body += c; });
			res.on('end', () => {
				try { resolve(JSON.parse(body)); } catch (e) { reject(e); }
			});
		}).on('error', reject);
	});
}

// A WebSocket client (RFC 6455): text frames out, masked; frames in,
// continuations joined.
class Socket {
	constructor(sock, head) {
		this.sock = sock;
		this.buf = head || Buffer.alloc(0);
		this.parts = [];
		this.onmessage = null;
		sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.parse(); });
	}

	parse() {
		for (;;) {
			const b = this.buf;
			if (b.length < 2) return;
			let len = b[1] & 0x7f, off = 2;
			if (len === 126) {
				if (b.length < 4) return;
				len = b.readUInt16BE(2);
				off = 4;
			} else if (len === 127) {
				if (b.length < 10) return;
				len = Number(b.readBigUInt64BE(2));
				off = 10;
			}
			if (b.length < off + len) return;
			const fin = (b[0] & 0x80) !== 0, op = b[0] & 0x0f;
			this.parts.push(b.subarray(off, off + len));
			this.buf = b.subarray(off + len);
			if (op === 8) { this.sock.end(); return; }
			if (fin) {
				const text = Buffer.concat(this.parts).toString();
				this.parts = [];
				if (op !== 9 && op !== 10 && this.onmessage) this.onmessage(text);
			}
		}
	}

	send(text) {
		const p = Buffer.from(text), mask = crypto.randomBytes(4);
		let head;
		if (p.length < 126) {
			head = Buffer.from([0x81, 0x80 | p.length]);
		} else if (p.length < 65536) {
			head = Buffer.alloc(4);
			head[0] = 0x81;
			head[1] = 0x80 | 126;
			head.writeUInt16BE(p.length, 2);
		} else {
			head = Buffer.alloc(10);
			head[0] = 0x81;
			head[1] = 0x80 | 127;
			head.writeBigUInt64BE(BigInt(p.length), 2);
		}
		for (let i = 0; i < p.length; i++) p[i] ^= mask[i & 3];
		this.sock.write(Buffer.concat([head, mask, p]));
	}
}

function connect(url) {
	return new Promise((resolve, reject) => {
		const u = new URL(url);
		const req = http.request({
			host: u.hostname, port: u.port, path: u.pathname,
			headers: {
				Connection: 'Upgrade', Upgrade: 'websocket',
				'Sec-WebSocket-Version': '13',
				'Sec-WebSocket-Key': crypto.randomBytes(16).toString('base64'),
			},
		});
		req.on('upgrade', (res, sock, head) => resolve(new Socket(sock, head)));
		req.on('response', (res) => reject(new Error('no upgrade: ' + res.statusCode)));
		req.on('error', reject);
		req.end();
	});
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
	let target;
	for (let i = 0; i < 100 && !target; i++) {
		try {
			target = (await getJSON('/json/list')).find((t) => t.type === 'page');
		} catch (e) { /* not up yet */ }
		if (!target) await sleep(100);
	}
	if (!target) throw new Error('no page target on port ' + port);
	const ws = await connect(target.webSocketDebuggerUrl);
	let seq = 0;
	const waiting = new Map();
	ws.onmessage = (text) => {
		const m = JSON.parse(text);
		if (m.id !== undefined && waiting.has(m.id)) {
			waiting.get(m.id)(m);
			waiting.delete(m.id);
		}
	};
	const call = (method, params) => new Promise((resolve, reject) => {
		const id = ++seq;
		waiting.set(id, (m) => (m.error ? reject(new Error(m.error.message)) : resolve(m.result)));
		ws.send(JSON.stringify({ id, method, params: params || {} }));
	});
	const evaluate = async (expr) => {
		const r = await call('Runtime.evaluate',
			{ expression: expr, returnByValue: true, awaitPromise: true, userGesture: true });
		if (r.exceptionDetails) throw new Error(r.exceptionDetails.exception ?
			r.exceptionDetails.exception.description : r.exceptionDetails.text);
		return r.result.value;
	};
	const keys = {
		' ': { code: 'Space', keyCode: 32, text: ' ' },
		ArrowLeft: { code: 'ArrowLeft', keyCode: 37 },
		ArrowRight: { code: 'ArrowRight', keyCode: 39 },
	};
	const commands = {
		eval: async (rest) => evaluate(rest),
		wait: async (rest) => {
			const sp = rest.indexOf(' ');
			const until = Date.now() + Number(rest.slice(0, sp)) * 1000, expr = rest.slice(sp + 1);
			for (;;) {
				const v = await evaluate(expr);
				if (v) return v;
				if (Date.now() > until) throw new Error('still false: ' + expr);
				await sleep(100);
			}
		},
		key: async (rest) => {
			const name = rest === 'Space' ? ' ' : rest, k = keys[name];
			if (!k) throw new Error('unknown key ' + rest);
			const base = { key: name, code: k.code, windowsVirtualKeyCode: k.keyCode };
			await call('Input.dispatchKeyEvent', Object.assign({ type: 'keyDown', text: k.text }, base));
			await call('Input.dispatchKeyEvent', Object.assign({ type: 'keyUp' }, base));
			return true;
		},
		shot: async (rest) => {
			const [w, h, file] = rest.split(' ');
			await call('Emulation.setDeviceMetricsOverride', {
				width: Number(w), height: Number(h), deviceScaleFactor: 1, mobile: Number(w) < 600,
			});
			await sleep(500);
			const r = await call('Page.captureScreenshot', { format: 'png' });
			fs.writeFileSync(file, Buffer.from(r.data, 'base64'));
			return file;
		},
	};
	const rl = readline.createInterface({ input: process.stdin });
	let queue = Promise.resolve();
	rl.on('line', (line) => {
		queue = queue.then(async () => {
			const sp = line.indexOf(' ');
			const cmd = sp < 0 ? line : line.slice(0, sp), rest = sp < 0 ? '' : line.slice(sp + 1);
			try {
				if (!commands[cmd]) throw new Error('unknown command ' + cmd);
				const v = await commands[cmd](rest);
				process.stdout.write('ok ' + JSON.stringify(v === undefined ? null : v) + '\n');
			} catch (e) {
				process.stdout.write('error ' + String(e.message).replace(/\n/g, ' ') + '\n');
			}
		});
	});
	rl.on('close', () => { queue.then(() => process.exit(0)); });
}

main().catch((e) => {
	process.stdout.write('error ' + e.message + '\n');
	process.exit(1);
});
