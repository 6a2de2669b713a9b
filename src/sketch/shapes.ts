import type { Box } from './layout.ts';
import type { ShapeKind } from './lexicon.ts';
import { between, type Rng } from './prng.ts';

/** How one object is painted; `body` may be a gradient reference (`url(#g0)`), `none` for outlines only. */
export interface Paint {
  body: string;
  /** A darker tone of the body colour, for details on the body. */
  dark: string;
  accent: string;
  stroke: string;
  strokeWidth: number;
}

const f = (n: number) => n.toFixed(2);

class Svg {
  readonly parts: string[] = [];
  readonly paint: Paint;
  constructor(paint: Paint) {
    this.paint = paint;
  }
  private style(fill: string, extra = ''): string {
    const { stroke, strokeWidth } = this.paint;
    const s =
      stroke === 'none' ? '' : ` stroke="${stroke}" stroke-width="${f(strokeWidth)}" stroke-linejoin="round"`;
    return `fill="${fill}"${s}${extra}`;
  }
  ellipse(cx: number, cy: number, rx: number, ry: number, fill: string, extra = ''): this {
    this.parts.push(
      `<ellipse cx="${f(cx)}" cy="${f(cy)}" rx="${f(rx)}" ry="${f(ry)}" ${this.style(fill, extra)}/>`,
    );
    return this;
  }
  rect(x: number, y: number, w: number, h: number, r: number, fill: string): this {
    this.parts.push(
      `<rect x="${f(x)}" y="${f(y)}" width="${f(w)}" height="${f(h)}" rx="${f(r)}" ${this.style(fill)}/>`,
    );
    return this;
  }
  path(d: string, fill: string, extra = ''): this {
    this.parts.push(`<path d="${d}" ${this.style(fill, extra)}/>`);
    return this;
  }
  /** An open stroke in its own colour (details such as marbling, scoring, a cup handle). */
  line(d: string, colour: string, width: number): this {
    this.parts.push(
      `<path d="${d}" fill="none" stroke="${colour}" stroke-width="${f(width)}" stroke-linecap="round"/>`,
    );
    return this;
  }
  poly(points: Array<[number, number]>, fill: string): this {
    return this.path(`M${points.map(([x, y]) => `${f(x)} ${f(y)}`).join(' L')} Z`, fill);
  }
}

type Drawer = (s: Svg, b: Box, p: Paint, rng: Rng) => void;

const cx = (b: Box) => b.x + b.w / 2;
const cy = (b: Box) => b.y + b.h / 2;

/** Scattered dots inside an ellipse: pepperoni, chocolate chips, seeds. Count bounded. */
function dots(s: Svg, b: Box, fill: string, rng: Rng, count: number, size: number): void {
  for (let i = 0; i < count; i++) {
    const angle = between(rng, 0, Math.PI * 2);
    const radius = Math.sqrt(rng()) * 0.32;
    s.ellipse(
      cx(b) + Math.cos(angle) * radius * b.w,
      cy(b) + Math.sin(angle) * radius * b.h,
      size,
      size,
      fill,
    );
  }
}

const DRAW: Record<ShapeKind, Drawer> = {
  circle: (s, b, p) => {
    s.ellipse(cx(b), cy(b) + b.h * 0.03, b.w / 2, b.h * 0.47, p.body);
    s.ellipse(cx(b) + b.w * 0.1, b.y + b.h * 0.08, b.w * 0.12, b.h * 0.05, p.accent);
  },
  ellipse: (s, b, p) => {
    s.ellipse(cx(b), cy(b), b.w / 2, b.h / 2, p.body);
    s.ellipse(cx(b) - b.w * 0.15, cy(b) - b.h * 0.18, b.w * 0.14, b.h * 0.08, p.accent, ' opacity="0.45"');
  },
  'rounded-rect': (s, b, p) => {
    s.rect(b.x, b.y, b.w, b.h, Math.min(b.w, b.h) * 0.18, p.body);
    s.rect(b.x, b.y + b.h * 0.38, b.w, b.h * 0.24, 0, p.accent);
  },
  triangle: (s, b, p) => {
    s.poly(
      [
        [cx(b), b.y],
        [b.x + b.w, b.y + b.h],
        [b.x, b.y + b.h],
      ],
      p.body,
    );
    s.rect(b.x + b.w * 0.08, b.y + b.h * 0.86, b.w * 0.84, b.h * 0.1, b.h * 0.04, p.accent);
  },
  wedge: (s, b, p) => {
    s.poly(
      [
        [b.x, b.y + b.h],
        [b.x + b.w, b.y + b.h],
        [b.x + b.w * 0.18, b.y],
      ],
      p.body,
    );
    for (let i = 1; i <= 3; i++) {
      const t = i / 4;
      s.line(
        `M${f(b.x + b.w * 0.18 * (1 - t))} ${f(b.y + b.h * t)} L${f(b.x + b.w * (0.18 + 0.82 * t))} ${f(b.y + b.h * t)}`,
        p.accent,
        Math.max(1, b.h * 0.025),
      );
    }
  },
  bottle: (s, b, p) => {
    const neck = b.w * 0.34;
    const x0 = cx(b) - neck / 2;
    s.path(
      `M${f(x0)} ${f(b.y + b.h * 0.12)} L${f(x0 + neck)} ${f(b.y + b.h * 0.12)} L${f(x0 + neck)} ${f(b.y + b.h * 0.28)} ` +
        `Q${f(b.x + b.w)} ${f(b.y + b.h * 0.34)} ${f(b.x + b.w)} ${f(b.y + b.h * 0.45)} L${f(b.x + b.w)} ${f(b.y + b.h * 0.96)} ` +
        `Q${f(b.x + b.w)} ${f(b.y + b.h)} ${f(b.x + b.w * 0.9)} ${f(b.y + b.h)} L${f(b.x + b.w * 0.1)} ${f(b.y + b.h)} ` +
        `Q${f(b.x)} ${f(b.y + b.h)} ${f(b.x)} ${f(b.y + b.h * 0.96)} L${f(b.x)} ${f(b.y + b.h * 0.45)} ` +
        `Q${f(b.x)} ${f(b.y + b.h * 0.34)} ${f(x0)} ${f(b.y + b.h * 0.28)} Z`,
      p.body,
    );
    s.rect(x0 - neck * 0.05, b.y, neck * 1.1, b.h * 0.13, neck * 0.15, p.dark);
    s.rect(b.x, b.y + b.h * 0.55, b.w, b.h * 0.25, 0, p.accent);
  },
  can: (s, b, p) => {
    const lip = b.h * 0.07;
    s.rect(b.x, b.y + lip, b.w, b.h - 2 * lip, 0, p.body);
    s.ellipse(cx(b), b.y + b.h - lip, b.w / 2, lip, p.body);
    s.ellipse(cx(b), b.y + lip, b.w / 2, lip, p.dark);
    s.rect(b.x, b.y + b.h * 0.35, b.w, b.h * 0.3, 0, p.accent);
  },
  jar: (s, b, p) => {
    s.rect(b.x, b.y + b.h * 0.18, b.w, b.h * 0.82, b.w * 0.16, p.body);
    s.rect(b.x + b.w * 0.06, b.y, b.w * 0.88, b.h * 0.2, b.w * 0.05, p.accent);
    s.rect(b.x + b.w * 0.12, b.y + b.h * 0.45, b.w * 0.76, b.h * 0.3, b.w * 0.04, p.dark);
  },
  box: (s, b, p) => {
    s.rect(b.x, b.y, b.w, b.h, Math.min(b.w, b.h) * 0.03, p.body);
    s.rect(b.x, b.y, b.w, b.h * 0.2, 0, p.dark);
    s.ellipse(cx(b), b.y + b.h * 0.58, b.w * 0.3, b.h * 0.18, p.accent);
  },
  blob: (s, b, p, rng) => {
    // An irregular closed curve through eight seeded points around the box: a cut of meat, a potato.
    const points: Array<[number, number]> = [];
    for (let i = 0; i < 8; i++) {
      const angle = (i / 8) * Math.PI * 2;
      const r = between(rng, 0.82, 1);
      points.push([cx(b) + Math.cos(angle) * (b.w / 2) * r, cy(b) + Math.sin(angle) * (b.h / 2) * r]);
    }
    const mid = (a: [number, number], c: [number, number]) => [(a[0] + c[0]) / 2, (a[1] + c[1]) / 2];
    const start = mid(points[7]!, points[0]!);
    let d = `M${f(start[0]!)} ${f(start[1]!)}`;
    for (let i = 0; i < 8; i++) {
      const m = mid(points[i]!, points[(i + 1) % 8]!);
      d += ` Q${f(points[i]![0])} ${f(points[i]![1])} ${f(m[0]!)} ${f(m[1]!)}`;
    }
    s.path(`${d} Z`, p.body);
    s.line(
      `M${f(b.x + b.w * 0.25)} ${f(b.y + b.h * 0.35)} Q${f(cx(b))} ${f(b.y + b.h * 0.55)} ${f(b.x + b.w * 0.72)} ${f(b.y + b.h * 0.4)}`,
      p.accent,
      Math.max(1, b.h * 0.06),
    );
  },
  crescent: (s, b, p) => {
    s.path(
      `M${f(b.x)} ${f(b.y + b.h * 0.2)} Q${f(cx(b))} ${f(b.y + b.h * 1.3)} ${f(b.x + b.w)} ${f(b.y + b.h * 0.2)} ` +
        `Q${f(cx(b))} ${f(b.y + b.h * 0.75)} ${f(b.x)} ${f(b.y + b.h * 0.2)} Z`,
      p.body,
    );
    s.ellipse(b.x + b.w * 0.03, b.y + b.h * 0.2, b.w * 0.03, b.h * 0.06, p.accent);
  },
  cluster: (s, b, p) => {
    const r = b.w * 0.16;
    const rows = [3, 3, 2, 1];
    rows.forEach((inRow, row) => {
      for (let i = 0; i < inRow; i++) {
        const x = cx(b) + (i - (inRow - 1) / 2) * r * 1.9;
        s.ellipse(x, b.y + b.h * 0.22 + row * r * 1.7 + r, r, r, p.body);
      }
    });
    s.rect(cx(b) - b.w * 0.02, b.y, b.w * 0.04, b.h * 0.2, 0, p.accent);
  },
  bowl: (s, b, p) => {
    s.ellipse(cx(b), b.y + b.h * 0.42, b.w * 0.44, b.h * 0.3, p.body);
    s.path(
      `M${f(b.x)} ${f(b.y + b.h * 0.45)} L${f(b.x + b.w)} ${f(b.y + b.h * 0.45)} ` +
        `Q${f(b.x + b.w * 0.95)} ${f(b.y + b.h)} ${f(cx(b))} ${f(b.y + b.h)} Q${f(b.x + b.w * 0.05)} ${f(b.y + b.h)} ${f(b.x)} ${f(b.y + b.h * 0.45)} Z`,
      p.body === 'none' ? 'none' : '#f1f0ec',
    );
    s.ellipse(cx(b) - b.w * 0.15, b.y + b.h * 0.35, b.w * 0.05, b.h * 0.05, p.accent);
    s.ellipse(cx(b) + b.w * 0.12, b.y + b.h * 0.3, b.w * 0.05, b.h * 0.05, p.accent);
  },
  cup: (s, b, p) => {
    const bodyW = b.w * 0.78;
    const hx = b.x + bodyW;
    const [hw, hh] = [b.w * 0.2, b.h * 0.22];
    s.line(
      `M${f(hx - hw)} ${f(cy(b))} a${f(hw)} ${f(hh)} 0 1 0 ${f(2 * hw)} 0 a${f(hw)} ${f(hh)} 0 1 0 ${f(-2 * hw)} 0`,
      p.dark,
      b.w * 0.06,
    );
    s.path(
      `M${f(b.x)} ${f(b.y + b.h * 0.1)} L${f(b.x + bodyW)} ${f(b.y + b.h * 0.1)} L${f(b.x + bodyW * 0.9)} ${f(b.y + b.h)} ` +
        `L${f(b.x + bodyW * 0.1)} ${f(b.y + b.h)} Z`,
      p.body,
    );
    s.ellipse(b.x + bodyW / 2, b.y + b.h * 0.1, bodyW / 2, b.h * 0.08, p.accent);
  },
  stack: (s, b, p) => {
    s.path(
      `M${f(b.x)} ${f(b.y + b.h * 0.35)} Q${f(b.x)} ${f(b.y)} ${f(cx(b))} ${f(b.y)} Q${f(b.x + b.w)} ${f(b.y)} ${f(b.x + b.w)} ${f(b.y + b.h * 0.35)} Z`,
      p.body,
    );
    s.rect(b.x - b.w * 0.02, b.y + b.h * 0.37, b.w * 1.04, b.h * 0.12, b.h * 0.05, p.accent);
    s.rect(b.x, b.y + b.h * 0.5, b.w, b.h * 0.2, b.h * 0.06, p.dark);
    s.rect(b.x, b.y + b.h * 0.72, b.w, b.h * 0.28, b.h * 0.08, p.body);
  },
  leafy: (s, b, p) => {
    const lobes = 10;
    let d = '';
    for (let i = 0; i <= lobes; i++) {
      const a = (i / lobes) * Math.PI * 2;
      const x = cx(b) + (Math.cos(a) * b.w) / 2;
      const y = cy(b) + (Math.sin(a) * b.h) / 2;
      if (i === 0) d = `M${f(x)} ${f(y)}`;
      else {
        const am = ((i - 0.5) / lobes) * Math.PI * 2;
        d += ` Q${f(cx(b) + Math.cos(am) * b.w * 0.62)} ${f(cy(b) + Math.sin(am) * b.h * 0.62)} ${f(x)} ${f(y)}`;
      }
    }
    s.path(`${d} Z`, p.body);
    s.ellipse(cx(b), cy(b), b.w * 0.25, b.h * 0.25, p.accent);
  },
  carrot: (s, b, p) => {
    s.poly(
      [
        [b.x, b.y + b.h * 0.2],
        [b.x + b.w, b.y + b.h * 0.2],
        [cx(b), b.y + b.h],
      ],
      p.body,
    );
    s.ellipse(cx(b) - b.w * 0.15, b.y + b.h * 0.1, b.w * 0.12, b.h * 0.1, p.accent);
    s.ellipse(cx(b) + b.w * 0.15, b.y + b.h * 0.1, b.w * 0.12, b.h * 0.1, p.accent);
  },
  tree: (s, b, p) => {
    s.rect(cx(b) - b.w * 0.12, b.y + b.h * 0.5, b.w * 0.24, b.h * 0.5, b.w * 0.05, p.accent);
    s.ellipse(cx(b) - b.w * 0.25, b.y + b.h * 0.35, b.w * 0.25, b.h * 0.22, p.body);
    s.ellipse(cx(b) + b.w * 0.25, b.y + b.h * 0.35, b.w * 0.25, b.h * 0.22, p.body);
    s.ellipse(cx(b), b.y + b.h * 0.22, b.w * 0.3, b.h * 0.22, p.body);
  },
  fish: (s, b, p) => {
    s.poly(
      [
        [b.x + b.w * 0.7, cy(b)],
        [b.x + b.w, b.y + b.h * 0.15],
        [b.x + b.w, b.y + b.h * 0.85],
      ],
      p.dark,
    );
    s.ellipse(b.x + b.w * 0.38, cy(b), b.w * 0.38, b.h * 0.4, p.body);
    s.ellipse(b.x + b.w * 0.16, cy(b) - b.h * 0.08, b.w * 0.03, b.w * 0.03, p.accent);
  },
  egg: (s, b, p) => {
    const egg = (k: number, fill: string) =>
      s.path(
        `M${f(cx(b))} ${f(b.y + b.h * (1 - k))} C${f(cx(b) + b.w * 0.5 * k)} ${f(b.y + b.h * (1 - k))} ` +
          `${f(cx(b) + b.w * 0.58 * k)} ${f(b.y + b.h)} ${f(cx(b))} ${f(b.y + b.h)} ` +
          `C${f(cx(b) - b.w * 0.58 * k)} ${f(b.y + b.h)} ${f(cx(b) - b.w * 0.5 * k)} ${f(b.y + b.h * (1 - k))} ${f(cx(b))} ${f(b.y + b.h * (1 - k))} Z`,
        fill,
      );
    egg(1, p.body);
    s.ellipse(cx(b), b.y + b.h * 0.65, b.w * 0.22, b.h * 0.2, p.accent);
  },
  loaf: (s, b, p) => {
    s.path(
      `M${f(b.x)} ${f(b.y + b.h)} L${f(b.x)} ${f(b.y + b.h * 0.45)} Q${f(b.x)} ${f(b.y)} ${f(cx(b))} ${f(b.y)} ` +
        `Q${f(b.x + b.w)} ${f(b.y)} ${f(b.x + b.w)} ${f(b.y + b.h * 0.45)} L${f(b.x + b.w)} ${f(b.y + b.h)} Z`,
      p.body,
    );
    for (let i = 1; i <= 3; i++) {
      const x = b.x + (b.w * i) / 4;
      s.line(
        `M${f(x - b.w * 0.06)} ${f(b.y + b.h * 0.2)} L${f(x + b.w * 0.06)} ${f(b.y + b.h * 0.45)}`,
        p.accent,
        Math.max(1, b.w * 0.025),
      );
    }
  },
  ring: (s, b, p) => {
    // Even-odd fill leaves a real hole, so a transparent canvas shows through it.
    const ring = (rx: number, ry: number, hx: number, hy: number) =>
      `M${f(cx(b) - rx)} ${f(cy(b))} a${f(rx)} ${f(ry)} 0 1 0 ${f(2 * rx)} 0 a${f(rx)} ${f(ry)} 0 1 0 ${f(-2 * rx)} 0 Z ` +
      `M${f(cx(b) - hx)} ${f(cy(b))} a${f(hx)} ${f(hy)} 0 1 0 ${f(2 * hx)} 0 a${f(hx)} ${f(hy)} 0 1 0 ${f(-2 * hx)} 0 Z`;
    s.path(ring(b.w / 2, b.h / 2, b.w * 0.16, b.h * 0.16), p.body, ' fill-rule="evenodd"');
    s.path(ring(b.w * 0.42, b.h * 0.42, b.w * 0.22, b.h * 0.22), p.accent, ' fill-rule="evenodd"');
  },
  cone: (s, b, p) => {
    s.poly(
      [
        [b.x + b.w * 0.1, b.y + b.h * 0.45],
        [b.x + b.w * 0.9, b.y + b.h * 0.45],
        [cx(b), b.y + b.h],
      ],
      p.accent,
    );
    s.ellipse(cx(b), b.y + b.h * 0.3, b.w * 0.45, b.h * 0.28, p.body);
  },
  drumstick: (s, b, p) => {
    s.rect(b.x + b.w * 0.55, cy(b) - b.h * 0.07, b.w * 0.35, b.h * 0.14, b.h * 0.05, p.accent);
    s.ellipse(b.x + b.w * 0.92, cy(b) - b.h * 0.1, b.w * 0.07, b.h * 0.09, p.accent);
    s.ellipse(b.x + b.w * 0.92, cy(b) + b.h * 0.1, b.w * 0.07, b.h * 0.09, p.accent);
    s.ellipse(b.x + b.w * 0.33, cy(b), b.w * 0.33, b.h * 0.42, p.body);
  },
  mushroom: (s, b, p) => {
    s.rect(cx(b) - b.w * 0.15, b.y + b.h * 0.45, b.w * 0.3, b.h * 0.55, b.w * 0.08, p.accent);
    s.path(
      `M${f(b.x)} ${f(b.y + b.h * 0.55)} Q${f(b.x)} ${f(b.y)} ${f(cx(b))} ${f(b.y)} Q${f(b.x + b.w)} ${f(b.y)} ${f(b.x + b.w)} ${f(b.y + b.h * 0.55)} Z`,
      p.body,
    );
  },
  'dotted-circle': (s, b, p, rng) => {
    s.ellipse(cx(b), cy(b), b.w / 2, b.h / 2, p.body);
    dots(s, b, p.accent, rng, 7, Math.max(1, b.w * 0.05));
  },
};

/** SVG elements for one object inside its box. */
export function drawShape(kind: ShapeKind, box: Box, paint: Paint, rng: Rng): string {
  const svg = new Svg(paint);
  DRAW[kind](svg, box, paint, rng);
  return svg.parts.join('');
}
