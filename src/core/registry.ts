/** The set of stages a pipeline may use, by name. */
import { z } from 'zod';
import type { AnyStage, AnyStageDef } from './stage.js';
import { specKinds, portAccepts, type PortKind } from './ports.js';

export class Registry {
  private readonly stages = new Map<string, AnyStageDef>();

  constructor(stages: Iterable<{ def: AnyStageDef } | AnyStage> = []) {
    for (const s of stages) this.add(s);
  }

  add(stage: { def: AnyStageDef } | AnyStage): this {
    const def = (stage as { def: AnyStageDef }).def;
    if (this.stages.has(def.name)) throw new Error(`stage '${def.name}' is registered twice`);
    this.stages.set(def.name, def);
    return this;
  }

  get(name: string): AnyStageDef | undefined {
    return this.stages.get(name);
  }

  has(name: string): boolean {
    return this.stages.has(name);
  }

  names(): string[] {
    return [...this.stages.keys()].sort();
  }

  all(): AnyStageDef[] {
    return this.names().map((n) => this.stages.get(n)!);
  }

  /** What stage `name` emits when given `input` (its outputKinds with no params; else its declared output). */
  outputFor(name: string, input: readonly PortKind[]): PortKind[] {
    const def = this.get(name);
    if (!def) return [];
    const declared = specKinds(def.output);
    if (!def.outputKinds) return declared;
    try {
      const k = def.outputKinds(undefined as never, input, (p) => p).filter((x) => declared.includes(x) || declared.includes('Any'));
      return k.length ? k : declared;
    } catch {
      return declared;
    }
  }

  /**
   * Stages that take `from` and give something `to` accepts: suggestions for a port mismatch.
   * A stage that passes on the kind it gets (normalize, center) is no bridge.
   */
  bridges(from: PortKind, to: readonly PortKind[]): string[] {
    return this.all()
      .filter((d) => d.input !== null && specKinds(d.input).some((k) => k === from) && !specKinds(d.input).includes('Any'))
      .filter((d) => to.some((t) => portAccepts(t, this.outputFor(d.name, [from]))))
      .map((d) => d.name);
  }

  /** JSON Schema of one stage's params (input side: defaults are optional). */
  paramsJsonSchema(name: string): Record<string, unknown> {
    const def = this.get(name);
    if (!def) throw new Error(`no stage ${name}`);
    const js = z.toJSONSchema(def.params, { io: 'input', unrepresentable: 'any' }) as Record<string, unknown>;
    delete js.$schema;
    return js;
  }
}
