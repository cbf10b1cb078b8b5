/** Text for `svdflow stages` and `svdflow stages NAME`, from the registry's schemas. */
import type { Registry } from '../core/registry.js';
import type { AnyStageDef } from '../core/stage.js';
import { specKinds } from '../core/ports.js';

function ports(def: AnyStageDef): string {
  const input = def.input === null ? '(source)' : specKinds(def.input).join('|');
  const sides = Object.entries(def.sides ?? {}).map(([k, v]) => `${k}: ${specKinds(v).join('|')}`);
  return `${input}${sides.length ? ` + {${sides.join(', ')}}` : ''} → ${[def.output].flat().join(' | ')}`;
}

export function listStages(reg: Registry): string {
  const defs = reg.all();
  const w = Math.max(...defs.map((d) => d.name.length));
  const pw = Math.max(...defs.map((d) => ports(d).length));
  return [`${defs.length} stages (svdflow stages NAME for params and docs):`, ...defs.map((d) => `  ${d.name.padEnd(w)}  ${ports(d).padEnd(pw)}  ${d.summary}`)].join('\n');
}

interface JsonSchema {
  type?: string | string[];
  enum?: unknown[];
  const?: unknown;
  default?: unknown;
  description?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  required?: string[];
}

export function schemaType(s: JsonSchema): string {
  if (s.enum) return s.enum.map((e) => JSON.stringify(e)).join(' | ');
  if (s.const !== undefined) return JSON.stringify(s.const);
  const alts = s.anyOf ?? s.oneOf;
  if (alts) return alts.map(schemaType).join(' | ');
  let t = Array.isArray(s.type) ? s.type.join(' | ') : (s.type ?? 'any');
  if (t === 'array' && s.items) t = `list of ${schemaType(s.items)}`;
  if (t === 'object' && s.properties) t = `{ ${Object.keys(s.properties).join(', ')} }`;
  const lo = s.minimum ?? s.exclusiveMinimum;
  const hi = s.maximum !== undefined && s.maximum < 1e15 ? s.maximum : s.exclusiveMaximum;
  if (lo !== undefined || hi !== undefined) t += ` in ${s.exclusiveMinimum !== undefined ? '(' : '['}${lo ?? '-inf'}, ${hi ?? 'inf'}${s.exclusiveMaximum !== undefined ? ')' : ']'}`;
  return t;
}

function paramLines(js: JsonSchema, indent: string): string[] {
  const lines: string[] = [];
  const props = js.properties ?? {};
  if (!Object.keys(props).length) lines.push(`${indent}(none)`);
  for (const [k, s] of Object.entries(props)) {
    lines.push(`${indent}${k}: ${schemaType(s)}${s.default !== undefined ? ` = ${JSON.stringify(s.default)}` : (js.required ?? []).includes(k) ? ' (required)' : ''}`);
    if (s.description) lines.push(`${indent}    ${s.description}`);
  }
  return lines;
}

/** The tag that tells a union's variants apart: a property that is a const in every variant. */
function discriminator(variants: JsonSchema[]): string | undefined {
  const first = variants[0]?.properties ?? {};
  return Object.keys(first).find((k) => variants.every((v) => v.properties?.[k]?.const !== undefined));
}

export function describeStage(def: AnyStageDef, reg: Registry): string {
  const js = reg.paramsJsonSchema(def.name) as JsonSchema;
  const lines = [`${def.name}: ${def.summary}`, `  ports: ${ports(def)}`];
  if (def.description) lines.push('', ...def.description.split('\n').map((l) => `  ${l}`));
  lines.push('', '  params:');
  const variants = (js.oneOf ?? js.anyOf)?.filter((v) => v.properties);
  if (!js.properties && variants?.length) {
    // a union (e.g. align's method: procrustes | icp): one block of params per variant
    const tag = discriminator(variants);
    lines.push(tag ? `    one of ${variants.length} forms, chosen by ${tag}:` : `    one of ${variants.length} forms:`);
    for (const v of variants) {
      lines.push('', `    ${tag ? `${tag}: ${JSON.stringify(v.properties![tag]!.const)}` : '-'}`);
      const rest: JsonSchema = { ...v, properties: Object.fromEntries(Object.entries(v.properties!).filter(([k]) => k !== tag)) };
      lines.push(...paramLines(rest, '      '));
    }
  } else lines.push(...paramLines(js, '    '));
  if (def.example) lines.push('', '  example:', ...def.example.trim().split('\n').map((l) => `    ${l}`));
  return lines.join('\n');
}
