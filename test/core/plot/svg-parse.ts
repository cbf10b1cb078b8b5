/**
 * Reading Vega's SVG output back in tests: axes (title, tick labels, tick positions),
 * mark groups by kind, image placements, line paths. Independent of the code that
 * builds the specs: it reads only the SVG structure vega writes.
 */
export interface AxisInfo {
  title: string;
  labels: string[];
  /** the translate() of each label, in the axis group's frame */
  positions: Array<[number, number]>;
}

function groups(svg: string, cls: string): string[] {
  const out: string[] = [];
  const open = new RegExp(`<g class="mark-group role-${cls}"`, 'g');
  let m: RegExpExecArray | null;
  while ((m = open.exec(svg))) {
    // match the closing tag of this group by counting nested <g>
    let depth = 0, i = m.index;
    const re = /<g[\s>]|<\/g>/g;
    re.lastIndex = i;
    let t: RegExpExecArray | null;
    while ((t = re.exec(svg))) {
      depth += t[0] === '</g>' ? -1 : 1;
      if (depth === 0) { out.push(svg.slice(i, t.index + 4)); break; }
    }
  }
  return out;
}

const unescape = (s: string) => s.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&#39;|&apos;/g, "'").replace(/&amp;/g, '&');

function texts(g: string, role: string): Array<{ text: string; x: number; y: number }> {
  const part = g.split(`role-${role}"`).slice(1).map((p) => p.split('</g>')[0]!).join('');
  return [...part.matchAll(/<text[^>]*?transform="translate\(([-\d.e]+),([-\d.e]+)\)[^"]*"[^>]*>([\s\S]*?)<\/text>/g)].map((m) => ({ text: unescape(m[3]!.replace(/<[^>]+>/g, '')), x: Number(m[1]), y: Number(m[2]) }));
}

export function axes(svg: string): AxisInfo[] {
  return groups(svg, 'axis').map((g) => {
    const labels = texts(g, 'axis-label');
    return { title: texts(g, 'axis-title').map((t) => t.text).join(' '), labels: labels.map((l) => l.text), positions: labels.map((l) => [l.x, l.y]) };
  });
}

export function axisTitled(svg: string, title: RegExp): AxisInfo {
  const a = axes(svg).find((x) => title.test(x.title));
  if (!a) throw new Error(`no axis titled ${title}; axes: ${axes(svg).map((x) => x.title).join(' | ')}`);
  return a;
}

/** Texts of the legend(s). */
export function legendLabels(svg: string): string[] {
  return groups(svg, 'legend').flatMap((g) => texts(g, 'legend-label').map((t) => t.text));
}

/** The legend symbols' path elements (stroke, dash). */
export function legendSymbols(svg: string): string[] {
  return groups(svg, 'legend').flatMap((g) => g.split('role-legend-symbol').slice(1).map((part) => /<path[^>]*>/.exec(part)?.[0] ?? ''));
}

/** Elements inside the mark groups of one kind (symbol, line, rule, image, text, rect). */
export function markItems(svg: string, kind: string): string[] {
  const out: string[] = [];
  for (const m of svg.matchAll(new RegExp(`<g class="mark-${kind} role-mark[^"]*"[^>]*>([\\s\\S]*?)</g>`, 'g'))) {
    out.push(...[...m[1]!.matchAll(/<(path|line|image|text|rect)\b[^>]*?(?:\/>|>[\s\S]*?<\/\1>)/g)].map((x) => x[0]));
  }
  return out;
}

export function imagesOf(svg: string): Array<{ x: number; y: number; width: number; height: number; href: string }> {
  return [...svg.matchAll(/<image xlink:href="([^"]+)" transform="translate\(([-\d.e]+),([-\d.e]+)\)" width="([\d.]+)" height="([\d.]+)"/g)].map((m) => ({ href: m[1]!, x: Number(m[2]), y: Number(m[3]), width: Number(m[4]), height: Number(m[5]) }));
}

/** y coordinates of the vertices of a path `d` (M/L commands, absolute). */
export function pathYs(d: string): number[] {
  return [...d.matchAll(/[ML]([-\d.e]+),([-\d.e]+)/g)].map((m) => Number(m[2]));
}

export function pathXs(d: string): number[] {
  return [...d.matchAll(/[ML]([-\d.e]+),([-\d.e]+)/g)].map((m) => Number(m[1]));
}

export function svgSize(svg: string): { width: number; height: number } {
  const m = /<svg[^>]*width="([\d.]+)" height="([\d.]+)"/.exec(svg)!;
  return { width: Number(m[1]), height: Number(m[2]) };
}
