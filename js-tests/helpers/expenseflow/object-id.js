'use strict';
/** A stand-in for MongoDB's ObjectId: what ExpenseFlow's auth puts on the request as ids. */
class ObjectId {
  constructor(hex) {
    if (!/^[0-9a-f]{24}$/.test(hex)) throw new TypeError(`not an ObjectId: ${hex}`);
    this._hex = hex;
  }

  toString() {
    return this._hex;
  }

  toHexString() {
    return this._hex;
  }

  toJSON() {
    return this._hex;
  }

  equals(other) {
    return other != null && String(other) === this._hex;
  }
}

/** A deterministic ObjectId for a name (the same name, the same id). */
function objectIdOf(name) {
  let h = 0x811c9dc5;
  for (const c of String(name)) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  const hex = (h.toString(16).padStart(8, '0') + Buffer.from(String(name)).toString('hex')).padEnd(24, '0').slice(0, 24);
  return new ObjectId(hex);
}

module.exports = { ObjectId, objectIdOf };
