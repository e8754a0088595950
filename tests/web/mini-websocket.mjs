// A small RFC 6455 client with the browser WebSocket's surface that the client library
// uses (readyState, send, close, onopen/onmessage/onclose/onerror), for Nodes without a
// global WebSocket (Node 18, Debian 12's nodejs; Node 20 without --experimental-websocket).
// Text frames only, no extensions: what the gateway sends a client that offers none.
import { randomBytes, createHash } from 'node:crypto';
import http from 'node:http';

const GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export class MiniWebSocket {
  constructor(url) {
    this.url = url;
    this.readyState = 0;
    this.onopen = this.onmessage = this.onclose = this.onerror = null;
    this.socket = null;
    this.buffer = Buffer.alloc(0);
    this.fragments = [];
    this.closeSent = false;
    const u = new URL(url);
    const key = randomBytes(16).toString('base64');
    const request = http.request({
      host: u.hostname, port: u.port || 80, path: u.pathname + u.search,
      headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key },
    });
    request.on('upgrade', (res, socket, head) => {
      const accept = createHash('sha1').update(key + GUID).digest('base64');
      if (res.headers['sec-websocket-accept'] !== accept) {
        socket.destroy();
        return this.#closed(1006, 'bad Sec-WebSocket-Accept');
      }
      this.socket = socket;
      socket.setNoDelay(true);
      socket.on('data', (chunk) => this.#onData(chunk));
      socket.on('close', () => this.#closed(1006, ''));
      socket.on('error', () => {});
      this.readyState = 1;
      this.onopen?.({ type: 'open' });
      if (head.length) this.#onData(head);
    });
    request.on('response', (res) => { res.resume(); this.#closed(1006, `HTTP ${res.statusCode}`); });
    request.on('error', () => this.#closed(1006, ''));
    request.end();
  }

  send(text) {
    if (this.readyState !== 1) throw new Error('InvalidStateError: not open');
    this.#write(0x1, Buffer.from(text, 'utf8'));
  }

  close(code = 1000, reason = '') {
    if (this.readyState >= 2) return;
    this.readyState = 2;
    if (!this.socket) return this.#closed(1006, '');
    const payload = Buffer.alloc(2 + Buffer.byteLength(reason));
    payload.writeUInt16BE(code, 0);
    payload.write(reason, 2);
    this.#write(0x8, payload);
    this.closeSent = true;
  }

  #write(opcode, payload) {
    const mask = randomBytes(4);
    const length = payload.length;
    const header = length < 126 ? Buffer.from([0x80 | opcode, 0x80 | length])
      : length < 65536 ? Buffer.from([0x80 | opcode, 0x80 | 126, length >> 8, length & 0xff])
        : Buffer.concat([Buffer.from([0x80 | opcode, 0x80 | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(length)); return b; })()]);
    const masked = Buffer.from(payload);
    for (let i = 0; i < masked.length; i++) masked[i] ^= mask[i & 3];
    this.socket.write(Buffer.concat([header, mask, masked]));
  }

  #onData(chunk) {
    this.buffer = Buffer.concat([this.buffer, chunk]);
    for (;;) {
      if (this.buffer.length < 2) return;
      const fin = (this.buffer[0] & 0x80) !== 0;
      const opcode = this.buffer[0] & 0x0f;
      let length = this.buffer[1] & 0x7f;
      let offset = 2;
      if (length === 126) {
        if (this.buffer.length < 4) return;
        length = this.buffer.readUInt16BE(2);
        offset = 4;
      } else if (length === 127) {
        if (this.buffer.length < 10) return;
        length = Number(this.buffer.readBigUInt64BE(2));
        offset = 10;
      }
      if (this.buffer.length < offset + length) return;
      const payload = this.buffer.subarray(offset, offset + length);
      this.buffer = this.buffer.subarray(offset + length);
      if (opcode === 0x9) {
        if (this.readyState === 1) this.#write(0xa, payload); // pong: what browsers do
      } else if (opcode === 0x8) {
        const code = payload.length >= 2 ? payload.readUInt16BE(0) : 1005;
        const reason = payload.subarray(2).toString('utf8');
        if (!this.closeSent && this.socket) this.#write(0x8, payload.subarray(0, 2));
        this.socket?.end();
        return this.#closed(code, reason);
      } else if (opcode === 0x1 || opcode === 0x0) {
        this.fragments.push(Buffer.from(payload));
        if (fin) {
          const text = Buffer.concat(this.fragments).toString('utf8');
          this.fragments = [];
          if (this.readyState === 1) this.onmessage?.({ data: text });
        }
      }
    }
  }

  #closed(code, reason) {
    if (this.readyState === 3) return;
    this.readyState = 3;
    if (code === 1006) this.onerror?.({ type: 'error' });
    this.onclose?.({ code, reason, wasClean: code !== 1006 });
  }
}
