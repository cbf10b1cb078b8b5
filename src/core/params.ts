/**
 * Param fragments that several stages share, defined once and spread into a stage's
 * `z.strictObject({...})`: the zod schema stays the single source of type, default and help.
 */
import { z } from 'zod';

/** An output file under --out (`path`) whose format follows its extension unless `format` names one. */
export function outputFileParams<const F extends readonly [string, ...string[]]>(defaultPath: string, pathHelp: string, formats: F, formatHelp: string) {
  return {
    path: z.string().min(1).default(defaultPath).describe(pathHelp),
    format: z.enum(['auto', ...formats] as unknown as readonly ['auto', ...F]).default('auto').describe(formatHelp),
  };
}

/** The layout of a contact sheet (contact-sheet, compare-sheet): its PNG file, wrapping, size, title and names. */
export function sheetParams(defaultPath: string, pathHelp: string, titleHelp: string) {
  return {
    path: z.string().min(1).default(defaultPath).describe(pathHelp),
    columns: z.number().int().min(1).optional().describe('thumbnails per line before wrapping (default: all in one line)'),
    scale: z.number().positive().max(4).default(1).describe('thumbnail size relative to the images'),
    title: z.string().optional().describe(titleHelp),
    names: z.boolean().default(true).describe('print image names above the columns'),
  };
}
