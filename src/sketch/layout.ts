import { between, type Rng } from './prng.ts';

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Places items (given as width/height ratios) on a grid that suits the canvas shape, each scaled
 * into its cell and jittered by the seed. Works for any canvas from 64 px up and any aspect ratio.
 */
export function layout(aspects: number[], width: number, height: number, rng: Rng): Box[] {
  const count = aspects.length;
  if (count === 0) return [];
  const marginX = width * 0.08;
  const marginY = height * 0.08;
  const areaW = width - 2 * marginX;
  const areaH = height - 2 * marginY;
  // Columns so cells come out roughly square: more columns on wide canvases, more rows on tall ones.
  let cols = Math.max(1, Math.min(count, Math.round(Math.sqrt((count * areaW) / areaH))));
  const rows = Math.ceil(count / cols);
  cols = Math.ceil(count / rows);
  const cellW = areaW / cols;
  const cellH = areaH / rows;

  return aspects.map((aspect, index) => {
    const row = Math.floor(index / cols);
    const inRow = row === rows - 1 ? count - row * cols : cols;
    const col = index - row * cols;
    // Centre a shorter last row.
    const rowOffset = ((cols - inRow) * cellW) / 2;
    const scale = count === 1 ? between(rng, 0.72, 0.88) : between(rng, 0.62, 0.84);
    let w = cellW * scale;
    let h = w / aspect;
    if (h > cellH * scale) {
      h = cellH * scale;
      w = h * aspect;
    }
    const slackX = (cellW - w) / 2;
    const slackY = (cellH - h) / 2;
    const cx = marginX + rowOffset + col * cellW + slackX + between(rng, -0.6, 0.6) * slackX;
    const cy = marginY + row * cellH + slackY + between(rng, -0.6, 0.6) * slackY;
    return { x: cx, y: cy, w, h };
  });
}
