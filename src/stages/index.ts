/**
 * Every stage that ships with svdflow. One file per stage, named after it.
 * To add one: write src/stages/<name>.ts with defineStage, export it here under
 * its camelCase name (test/api.test.ts checks that every registered stage is) and
 * add it to `allStages`.
 */
import { Registry } from '../core/registry.js';
import { writeJson } from './write-json.js';
import { decode } from './decode.js';
import { batchFrames } from './batch-frames.js';
import { backgroundModel } from './background-model.js';
import { writeVideo } from './write-video.js';
import { writeFrames } from './write-frames.js';
import { writeObjects } from './write-objects.js';
import { framePanels } from './frame-panels.js';
import { evaluateMasks } from './evaluate-masks.js';
import { loadPoints } from './load-points.js';
import { generatePoints } from './generate-points.js';
import { transform } from './transform.js';
import { align } from './align.js';
import { writePoints } from './write-points.js';
import { plotAlignment } from './plot-alignment.js';
import { load, loadImage, loadImages } from './load.js';
import { normalize } from './normalize.js';
import { center } from './center.js';
import { svd } from './svd.js';
import { reconstruct } from './reconstruct.js';
import { encode } from './encode.js';
import { truncate } from './truncate.js';
import { compressionReport } from './compression-report.js';
import { stack } from './stack.js';
import { unstack } from './unstack.js';
import { generate } from './generate.js';
import { contactSheetStage } from './contact-sheet.js';
import { compareSheet } from './compare-sheet.js';
import { pcaReport } from './pca-report.js';
import { pcaScatter } from './pca-scatter.js';

export { writeJson };
export { decode, batchFrames, backgroundModel, writeVideo, writeFrames, writeObjects, framePanels, evaluateMasks };
export { loadPoints, generatePoints, transform, align, writePoints, plotAlignment };
export { load, normalize, center, svd, reconstruct, encode, truncate, compressionReport };
export { stack, unstack, generate, compareSheet, pcaReport, pcaScatter };
/** the contact-sheet stage (the core drawing function of the same name is in core/image/collage) */
export { contactSheetStage as contactSheet };
/** typed helpers for code (not registry stages) */
export { loadImage, loadImages };

export const allStages = [
  writeJson,
  decode,
  batchFrames,
  backgroundModel,
  writeVideo,
  writeFrames,
  writeObjects,
  framePanels,
  evaluateMasks,
  loadPoints,
  generatePoints,
  transform,
  align,
  writePoints,
  plotAlignment,
  load,
  normalize,
  center,
  svd,
  reconstruct,
  encode,
  truncate,
  compressionReport,
  stack,
  unstack,
  generate,
  contactSheetStage,
  compareSheet,
  pcaReport,
  pcaScatter,
] as const;

export function defaultRegistry(): Registry {
  return new Registry(allStages as never);
}
