import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Browser } from 'playwright-core';

/** Outcome of comparing a screenshot with its committed reference. */
export interface ScreenshotComparison {
  /** True when the reference was (re)written instead of compared (first run or RADSCREEN_UPDATE_REFERENCES=1). */
  written: boolean;
  width: number;
  height: number;
  refWidth: number;
  refHeight: number;
  /** Share of pixels (0..1) whose largest channel difference exceeds `channelTolerance`. */
  differentShare: number;
}

/**
 * Compares PNG `actual` with the reference at `referencePath`, pixel by pixel, in Chromium itself:
 * no image-diff package is installed, and the browser already decodes PNG, so both images are
 * drawn onto canvases and their RGBA bytes compared. A pixel differs when one channel is more
 * than `channelTolerance` (0..255) apart: anti-aliasing and font hinting stay under it; a moved
 * panel or a changed colour does not. The caller decides how large a share may differ.
 */
export async function compareWithReference(
  browser: Browser,
  actual: Buffer,
  referencePath: string,
  channelTolerance = 40,
): Promise<ScreenshotComparison> {
  const written = process.env.RADSCREEN_UPDATE_REFERENCES === '1' || !existsSync(referencePath);
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
          return { w: img.naturalWidth, h: img.naturalHeight, data: ctx.getImageData(0, 0, img.naturalWidth, img.naturalHeight).data };
        };
        const [x, y] = [await load(a), await load(b)];
        if (x.w !== y.w || x.h !== y.h) return { w: x.w, h: x.h, rw: y.w, rh: y.h, share: 1 };
        let differing = 0;
        for (let i = 0; i < x.data.length; i += 4) {
          const [p, q] = [x.data, y.data];
          const d = Math.max(Math.abs(p[i]! - q[i]!), Math.abs(p[i + 1]! - q[i + 1]!), Math.abs(p[i + 2]! - q[i + 2]!));
          if (d > tol) differing++;
        }
        return { w: x.w, h: x.h, rw: y.w, rh: y.h, share: differing / (x.w * x.h) };
      },
      { a: actual.toString('base64'), b: readFileSync(referencePath).toString('base64'), tol: channelTolerance },
    );
    return { written, width: result.w, height: result.h, refWidth: result.rw, refHeight: result.rh, differentShare: result.share };
  } finally {
    await page.close();
  }
}
