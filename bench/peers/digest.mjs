// The correctness digest of firehose bench, in JavaScript: the same 64-bit
// fingerprint of (recordUid, recordTimestamp) as internal/benchrun's
// fingerprint (FNV-1a 64 over the uid's UTF-8 bytes, the timestamp times a
// golden-ratio constant XORed in, a splitmix64 finish), and the XOR and the
// sum (mod 2^64) of the fingerprints of every event delivered.
//
// A 64-bit value is two unsigned 32-bit Numbers (hi, lo); the products are
// split so that every partial product is exact in a double. BigInt would be simpler but
// allocates for every operation: about 100 of them per event would make the
// digest, not the client, what the bench measures. BigInt is used only to
// print the totals.
//
// Run directly, it prints the fingerprint of each (uid, timestamp) pair of
// its arguments, one decimal per line: a Go test compares them with Go's.
//
//	node digest.mjs event-1a2b 1700000000123 x 0

import { pathToFileURL } from 'node:url';

// 64-bit constants as [hi, lo].
const FNV_OFFSET = [0xcbf29ce4, 0x84222325];
const FNV_PRIME_LO = 0x1b3; // the prime is 2^40 + 0x1b3
const GOLDEN = [0x9e3779b9, 0x7f4a7c15];
const MIX1 = [0xbf58476d, 0x1ce4e5b9];
const MIX2 = [0x94d049bb, 0x133111eb];

const TWO32 = 4294967296;

// The result of mul64, in module state rather than a fresh array per call.
let mh = 0;
let ml = 0;

// mul64 sets (mh, ml) to (ah, al) × (bh, bl) mod 2^64: al × bl in full
// (al split in 16-bit halves, each product < 2^48 and exact), plus the
// cross products' low 32 bits (Math.imul) in the high word.
function mul64(ah, al, bh, bl) {
  const t0 = (al & 0xffff) * bl;
  const t1 = (al >>> 16) * bl;
  const u = (t0 >>> 0) + (t1 & 0xffff) * 65536; // < 2^33
  ml = u >>> 0;
  const carry = Math.floor(t0 / TWO32) + Math.floor(t1 / 65536) + (u >= TWO32 ? 1 : 0);
  mh = (carry + Math.imul(ah, bl) + Math.imul(al, bh)) >>> 0;
}

const utf8 = new TextEncoder();

// The fingerprint last computed, as (fph, fpl).
let fph = 0;
let fpl = 0;

// fingerprint sets (fph, fpl) to the fingerprint of (uid, ts). uid is a
// string; ts a Number (an integer) or a decimal string.
function fingerprint(uid, ts) {
  let h = FNV_OFFSET[0], l = FNV_OFFSET[1];
  let ascii = true;
  for (let i = 0; i < uid.length; i++) {
    if (uid.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  // One FNV-1a step: (h, l) = ((h, l) ^ c) × (2^40 + 0x1b3) mod 2^64, that is
  // the low word times 0x1b3 (< 2^41, exact), its carry, the high word times
  // 0x1b3 and the low word shifted by 40 into the high word (mod 2^32).
  if (ascii) {
    for (let i = 0; i < uid.length; i++) {
      const x = (l ^ uid.charCodeAt(i)) >>> 0;
      const p = x * FNV_PRIME_LO;
      l = p >>> 0;
      h = (Math.imul(h, FNV_PRIME_LO) + ((p / TWO32) >>> 0) + (x << 8)) >>> 0;
    }
  } else {
    for (const c of utf8.encode(uid)) {
      const x = (l ^ c) >>> 0;
      const p = x * FNV_PRIME_LO;
      l = p >>> 0;
      h = (Math.imul(h, FNV_PRIME_LO) + ((p / TWO32) >>> 0) + (x << 8)) >>> 0;
    }
  }
  // uint64(ts): a Number that is a non-negative safe integer, or a string
  // of at most 15 digits (what proto-loader's longs: String gives for an
  // epoch-ms timestamp), is exact in a double; anything else goes through
  // BigInt (two's complement, as Go's conversion).
  let n = -1;
  if (typeof ts === 'number') {
    if (Number.isSafeInteger(ts) && ts >= 0) n = ts;
  } else if (ts.length > 0 && ts.length <= 15) {
    n = 0;
    for (let i = 0; i < ts.length; i++) {
      const d = ts.charCodeAt(i) - 48;
      if (d < 0 || d > 9) {
        n = -1;
        break;
      }
      n = n * 10 + d;
    }
  }
  let th, tl;
  if (n >= 0) {
    th = Math.floor(n / TWO32);
    tl = n >>> 0;
  } else {
    const b = BigInt.asUintN(64, BigInt(ts));
    th = Number(b >> 32n);
    tl = Number(b & 0xffffffffn);
  }
  mul64(th, tl, GOLDEN[0], GOLDEN[1]);
  h = (h ^ mh) >>> 0; l = (l ^ ml) >>> 0;
  // h ^= h >> 30
  l = (l ^ ((l >>> 30) | (h << 2))) >>> 0; h = (h ^ (h >>> 30)) >>> 0;
  mul64(h, l, MIX1[0], MIX1[1]); h = mh; l = ml;
  // h ^= h >> 27
  l = (l ^ ((l >>> 27) | (h << 5))) >>> 0; h = (h ^ (h >>> 27)) >>> 0;
  mul64(h, l, MIX2[0], MIX2[1]); h = mh; l = ml;
  // h ^= h >> 31
  l = (l ^ ((l >>> 31) | (h << 1))) >>> 0; h = (h ^ (h >>> 31)) >>> 0;
  fph = h; fpl = l;
}

function toDecimal(h, l) {
  return ((BigInt(h) << 32n) | BigInt(l)).toString();
}

// Digest is the XOR and the sum of the fingerprints of the events added.
export class Digest {
  constructor() {
    this.xh = 0; this.xl = 0; // XOR
    this.sh = 0; this.sl = 0; // sum mod 2^64
  }

  add(uid, ts) {
    fingerprint(uid, ts);
    this.xh = (this.xh ^ fph) >>> 0;
    this.xl = (this.xl ^ fpl) >>> 0;
    const lo = this.sl + fpl; // < 2^33
    this.sl = lo >>> 0;
    this.sh = (this.sh + fph + (lo >= TWO32 ? 1 : 0)) >>> 0;
  }

  // xor and sum as unsigned decimal strings (what the harness parses).
  get xor() { return toDecimal(this.xh, this.xl); }
  get sum() { return toDecimal(this.sh, this.sl); }
}

// fingerprintDecimal is the fingerprint of (uid, ts) as an unsigned decimal.
export function fingerprintDecimal(uid, ts) {
  fingerprint(uid, ts);
  return toDecimal(fph, fpl);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  for (let i = 0; i + 1 < args.length; i += 2) {
    console.log(fingerprintDecimal(args[i], args[i + 1]));
  }
}
