/**
 * Every stage that ships with svdflow. One file per stage, named after it.
 * To add one: write src/stages/<name>.ts with defineStage, export it here and
 * add it to `allStages`.
 */
import { Registry } from '../core/registry.js';
import { writeJson } from './write-json.js';
import { stack } from './stack.js';
import { unstack } from './unstack.js';
import { generate } from './generate.js';

export { writeJson };

export const allStages = [
  writeJson,
  stack,
  unstack,
  generate,
] as const;

export function defaultRegistry(): Registry {
  return new Registry(allStages as never);
}
