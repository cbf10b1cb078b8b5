/**
 * Turns zod issues into svdflow's wording: what was expected, what was found,
 * and what to do ("did you mean 'rank'?"). Wording is kept apart from checking,
 * as zod does with its locales; the tests pin these messages.
 */
import type { z } from 'zod';
import { didYouMean } from './errors.js';

export interface ParamIssue {
  /** path inside the params object, e.g. "rank" or "levels[1].voxel" */
  path: string;
  pathParts: PropertyKey[];
  message: string;
  hint?: string;
}

type AnyZod = z.ZodType & { _zod: { def: Record<string, unknown> & { type: string } } };

/** Unwraps optional/default/nullable/pipe wrappers. */
export function unwrapSchema(s: z.ZodType | undefined): z.ZodType | undefined {
  let cur = s as AnyZod | undefined;
  for (let i = 0; cur && i < 20; i++) {
    const d = cur._zod.def;
    if (['optional', 'default', 'nullable', 'prefault', 'readonly', 'catch', 'nonoptional'].includes(d.type)) cur = d.innerType as AnyZod;
    else if (d.type === 'pipe') cur = d.in as AnyZod;
    else break;
  }
  return cur;
}

/** The keys an object schema (or each object branch of a union) accepts. */
export function objectKeys(s: z.ZodType | undefined): string[] {
  const u = unwrapSchema(s) as AnyZod | undefined;
  if (!u) return [];
  const d = u._zod.def;
  if (d.type === 'object') return Object.keys((d.shape as Record<string, unknown>) ?? {});
  if (d.type === 'union') return [...new Set((d.options as z.ZodType[]).flatMap((o) => objectKeys(o)))];
  if (d.type === 'intersection') return [...objectKeys(d.left as z.ZodType), ...objectKeys(d.right as z.ZodType)];
  return [];
}

/** The sub-schema at a path, as far as it can be followed. */
export function schemaAt(s: z.ZodType, path: readonly PropertyKey[]): z.ZodType | undefined {
  let cur: z.ZodType | undefined = s;
  for (const key of path) {
    const u = unwrapSchema(cur) as AnyZod | undefined;
    if (!u) return undefined;
    const d = u._zod.def;
    if (d.type === 'object') cur = (d.shape as Record<string, z.ZodType>)[String(key)];
    else if (d.type === 'array') cur = d.element as z.ZodType;
    else if (d.type === 'record') cur = d.valueType as z.ZodType;
    else if (d.type === 'union') {
      const options = d.options as z.ZodType[];
      cur = options.map((o) => schemaAt(o, [key])).find(Boolean);
    } else return undefined;
  }
  return cur;
}

export function formatPath(parts: readonly PropertyKey[]): string {
  let out = '';
  for (const p of parts) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out;
}

export function describeValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `"${v.length > 40 ? v.slice(0, 37) + '...' : v}" (a string)`;
  if (typeof v === 'boolean') return `${v} (a boolean)`;
  if (typeof v === 'number') return Number.isInteger(v) ? `${v} (an integer)` : `${v} (a number)`;
  if (Array.isArray(v)) return `a list of ${v.length}`;
  return `an object`;
}

const TYPE_WORDS: Record<string, string> = {
  int: 'an integer',
  number: 'a number',
  string: 'a string',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping',
};

function boundText(issue: Record<string, unknown>, small: boolean): string {
  const bound = (small ? issue.minimum : issue.maximum) as number | bigint;
  const incl = issue.inclusive !== false;
  const origin = issue.origin as string;
  if (origin === 'array' || origin === 'set') return `${small ? 'at least' : 'at most'} ${bound} item${Number(bound) === 1 ? '' : 's'}`;
  if (origin === 'string') return `${small ? 'at least' : 'at most'} ${bound} character${Number(bound) === 1 ? '' : 's'}`;
  return `${small ? (incl ? '>=' : '>') : incl ? '<=' : '<'} ${bound}`;
}

export function formatZodIssues(issues: readonly z.core.$ZodIssue[], schema: z.ZodType): ParamIssue[] {
  const out: ParamIssue[] = [];
  for (const raw of issues) {
    const issue = raw as unknown as Record<string, unknown> & { code: string; path: PropertyKey[]; input?: unknown; message: string };
    const path = issue.path;
    const got = describeValue(issue.input);
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = objectKeys(schemaAt(schema, path));
        for (const key of issue.keys as string[]) {
          const dym = didYouMean(key, known);
          out.push({
            path: formatPath([...path, key]),
            pathParts: [...path, key],
            message: `unknown key '${key}'`,
            hint: dym ? `did you mean '${dym}'?` : known.length ? `valid keys: ${known.join(', ')}` : 'remove it',
          });
        }
        continue;
      }
      case 'invalid_type': {
        // z.never() with its own message: a key this variant of a union refuses, saying why
        if (issue.expected === 'never' && !issue.message.startsWith('Invalid input')) {
          out.push({ path: formatPath(path), pathParts: path, message: issue.message });
          continue;
        }
        const target = unwrapSchema(schemaAt(schema, path)) as (z.ZodType & { format?: string }) | undefined;
        const isInt = issue.expected === 'number' && (target?.format === 'safeint' || target?.format === 'int32');
        const expected = isInt ? TYPE_WORDS.int! : (TYPE_WORDS[issue.expected as string] ?? String(issue.expected));
        const msg = issue.input === undefined ? `required: expected ${expected}` : `expected ${expected}, got ${got}`;
        out.push({ path: formatPath(path), pathParts: path, message: msg });
        continue;
      }
      case 'too_small':
      case 'too_big': {
        out.push({ path: formatPath(path), pathParts: path, message: `expected ${boundText(issue, issue.code === 'too_small')}, got ${got}` });
        continue;
      }
      case 'invalid_value': {
        const values = (issue.values as unknown[]).map((v) => JSON.stringify(v));
        const dym = typeof issue.input === 'string' ? didYouMean(issue.input, (issue.values as unknown[]).map(String)) : undefined;
        out.push({ path: formatPath(path), pathParts: path, message: `expected one of: ${values.join(', ')}; got ${got}`, hint: dym ? `did you mean '${dym}'?` : undefined });
        continue;
      }
      case 'invalid_union': {
        const branches = (issue.errors as z.core.$ZodIssue[][] | undefined) ?? [];
        // report the branch that got furthest (fewest issues), else the generic text
        const best = [...branches].sort((a, b) => a.length - b.length)[0];
        if (best && best.length && branches.length) {
          const inner = formatZodIssues(best.map((b) => ({ ...b, path: [...path, ...b.path] })) as z.core.$ZodIssue[], schema);
          out.push(...inner);
        } else out.push({ path: formatPath(path), pathParts: path, message: `${issue.message}; got ${got}` });
        continue;
      }
      default:
        out.push({ path: formatPath(path), pathParts: path, message: issue.input !== undefined && !issue.message.includes('got') ? `${issue.message}; got ${got}` : issue.message });
    }
  }
  return out;
}
