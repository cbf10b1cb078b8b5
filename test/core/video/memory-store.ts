import type { ModelStore } from '../../../src/core/video/model-stream.js';
import type { StateRef } from '../../../src/core/video/resume.js';

/** Model states in memory (the file store's contract without files): `consumers` is what consumersNext() answers, `cleared` counts clear() calls. */
export class MemoryStore implements ModelStore {
  states = new Map<number, Uint8Array>();
  cleared = 0;
  constructor(public consumers?: number) {}
  list(): StateRef[] {
    return [...this.states.keys()].sort((a, b) => b - a).map((next) => ({ next, file: `mem:${next}` }));
  }
  consumersNext() {
    return this.consumers;
  }
  read(s: StateRef) {
    return this.states.get(s.next)!;
  }
  async save(next: number, bytes: Uint8Array) {
    this.states.set(next, bytes.slice());
  }
  async remove(s: StateRef) {
    this.states.delete(s.next);
  }
  clear() {
    this.cleared++;
    this.states.clear();
  }
}
