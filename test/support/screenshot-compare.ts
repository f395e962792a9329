import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import type { Browser, Page } from 'playwright-core';

/** Outcome of comparing a screenshot with its committed reference. */
export interface ScreenshotComparison {
  /** True when the reference was (re)written instead of compared (local first run or RADSCREEN_UPDATE_REFERENCES=1). */
  written: boolean;
  width: number;
  height: number;
  refWidth: number;
  refHeight: number;
  /** Share of pixels (0..1) whose largest channel difference exceeds `channelTolerance`. */
  differentShare: number;
  /** Where this run's screenshot and a diff image (differing pixels in magenta) were saved. */
  actualPath: string;
  diffPath: string;
}

/** True under CI (the CI script exports CI=true): there a missing reference is a failure, not a first run. */
function inCi(): boolean {
  const ci = process.env.CI ?? '';
  return ci !== '' && ci !== '0' && ci.toLowerCase() !== 'false';
}

/**
 * Decides whether `referencePath` is written from this run instead of compared. Locally a missing
 * reference is written (and said so loudly); under CI it is an error, so a checkout that lost
 * its references cannot pass by comparing each screenshot with itself.
 */
export function shouldWrite(referencePath: string): boolean {
  const update = process.env.RADSCREEN_UPDATE_REFERENCES === '1';
  const missing = !existsSync(referencePath);
  if (inCi() && (update || missing))
    throw new Error(
      `${referencePath}: ${missing ? 'reference missing' : 'RADSCREEN_UPDATE_REFERENCES=1 is refused'} under CI=true. ` +
        'Make references on a development machine with RADSCREEN_UPDATE_REFERENCES=1, review them and commit them.',
    );
  if (missing) console.warn(`screenshot reference ${referencePath} did not exist: written from this run; review and commit it`);
  return update || missing;
}

/**
 * Compares PNG `actual` with the reference at `referencePath`, pixel by pixel, in Chromium itself:
 * no image-diff package is installed (npm.tsv has pixelmatch, but the shared node_modules must not
 * change), and the browser already decodes PNG, so both images are drawn onto canvases and their
 * RGBA bytes compared. A pixel differs when one channel is more than `channelTolerance` (0..255)
 * apart: anti-aliasing and hinting stay under it; a moved panel or a changed colour does not. The
 * caller decides how large a share may differ. This run's image and a diff are always saved to
 * a temporary directory so a failure can be looked at.
 */
export async function compareWithReference(
  browser: Browser,
  actual: Buffer,
  referencePath: string,
  channelTolerance = 40,
): Promise<ScreenshotComparison> {
  const written = shouldWrite(referencePath);
  if (written) {
    mkdirSync(dirname(referencePath), { recursive: true });
    writeFileSync(referencePath, actual);
  }
  const page = await browser.newPage();
  try {
    const result = await page.evaluate(
      async ({ a, b, tol }) => {
        const load = async (b64: string) => {
          const img = new Image();
          img.src = `data:image/png;base64,${b64}`;
          await img.decode();
          const canvas = document.createElement('canvas');
          canvas.width = img.naturalWidth;
          canvas.height = img.naturalHeight;
          const ctx = canvas.getContext('2d') as CanvasRenderingContext2D;
          ctx.drawImage(img, 0, 0);
          return { w: img.naturalWidth, h: img.naturalHeight, ctx, data: ctx.getImageData(0, 0, img.naturalWidth, img.naturalHeight).data };
        };
        const [x, y] = [await load(a), await load(b)];
        if (x.w !== y.w || x.h !== y.h) return { w: x.w, h: x.h, rw: y.w, rh: y.h, share: 1, diff: '' };
        // The diff image: the screenshot dimmed, differing pixels magenta.
        const out = x.ctx.createImageData(x.w, x.h);
        let differing = 0;
        const [p, q] = [x.data, y.data];
        for (let i = 0; i < p.length; i += 4) {
          const d = Math.max(
            Math.abs((p[i] ?? 0) - (q[i] ?? 0)),
            Math.abs((p[i + 1] ?? 0) - (q[i + 1] ?? 0)),
            Math.abs((p[i + 2] ?? 0) - (q[i + 2] ?? 0)),
          );
          const hit = d > tol;
          if (hit) differing++;
          out.data.set(hit ? [255, 0, 255, 255] : [(p[i] ?? 0) / 3, (p[i + 1] ?? 0) / 3, (p[i + 2] ?? 0) / 3, 255], i);
        }
        x.ctx.putImageData(out, 0, 0);
        const diff = x.ctx.canvas.toDataURL('image/png').split(',')[1] ?? '';
        return { w: x.w, h: x.h, rw: y.w, rh: y.h, share: differing / (x.w * x.h), diff };
      },
      { a: actual.toString('base64'), b: readFileSync(referencePath).toString('base64'), tol: channelTolerance },
    );
    const outDir = mkdtempSync(join(tmpdir(), 'radscreen-screenshot-'));
    const name = basename(referencePath, '.png');
    const actualPath = join(outDir, `${name}.actual.png`);
    const diffPath = join(outDir, `${name}.diff.png`);
    writeFileSync(actualPath, actual);
    if (result.diff) writeFileSync(diffPath, Buffer.from(result.diff, 'base64'));
    return {
      written,
      width: result.w,
      height: result.h,
      refWidth: result.rw,
      refHeight: result.rh,
      differentShare: result.share,
      actualPath,
      diffPath,
    };
  } finally {
    await page.close();
  }
}

/**
 * The font families Chromium actually rendered the page's text with (DevTools protocol
 * CSS.getPlatformFontsForNode), sorted. The references hold one machine's glyphs; when another
 * machine renders with other fonts the pixel comparison says nothing useful, so the test
 * compares this list first and names the difference instead of failing on a pixel share.
 */
export async function renderedFontFamilies(page: Page): Promise<string[]> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('DOM.enable');
    await cdp.send('CSS.enable');
    const { root } = await cdp.send('DOM.getDocument', { depth: -1 });
    const { nodeIds } = await cdp.send('DOM.querySelectorAll', { nodeId: root.nodeId, selector: 'body *' });
    const families = new Set<string>();
    for (const nodeId of nodeIds) {
      const { fonts } = await cdp.send('CSS.getPlatformFontsForNode', { nodeId });
      for (const f of fonts) families.add(f.familyName);
    }
    return [...families].sort();
  } finally {
    await cdp.detach();
  }
}

/**
 * Reads (or, when the references are being written, writes) the font list stored beside the
 * references; same CI rule as the images.
 */
export function referenceFonts(fontsPath: string, fonts: string[]): string[] {
  if (shouldWrite(fontsPath)) writeFileSync(fontsPath, `${JSON.stringify(fonts, null, 2)}\n`);
  return JSON.parse(readFileSync(fontsPath, 'utf8')) as string[];
}
