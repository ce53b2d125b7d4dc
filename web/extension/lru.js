// lru.js: a map that keeps only its most recently used entries.

export class LRU {
  #map = new Map(); // in order of use, oldest first
  #limit;
  #onEvict;

  /** limit: entries kept; onEvict(value, key) is called for each one dropped. */
  constructor(limit, onEvict = null) {
    this.#limit = limit;
    this.#onEvict = onEvict;
  }

  get size() { return this.#map.size; }

  get(key) {
    if (!this.#map.has(key)) return undefined;
    const value = this.#map.get(key);
    this.#map.delete(key);
    this.#map.set(key, value);
    return value;
  }

  set(key, value) {
    this.#map.delete(key);
    this.#map.set(key, value);
    while (this.#map.size > this.#limit) {
      const [oldKey, oldValue] = this.#map.entries().next().value;
      this.#map.delete(oldKey);
      this.#onEvict?.(oldValue, oldKey);
    }
  }
}
