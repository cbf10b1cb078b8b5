/**
 * Point-cloud pool tasks: registration (init, global FPFH + RANSAC, ICP schedule), run in a
 * worker thread so that a 10^6-point ICP can be interrupted at any moment.
 */
import type { Matrix } from '../../linalg/matrix.js';
import { icpRegistration, type IcpParams, type Registration } from '../../points/registration.js';
import { defineTasks } from '../index.js';

export const tasks = defineTasks(import.meta.url, {
  icpRegistration(source: Matrix, target: Matrix, p: IcpParams, targetNormals?: Matrix): Registration {
    return icpRegistration(source, target, p, targetNormals);
  },
});

/** Clouds this small (points of source + target) register inline: a thread hop would cost more. */
export const INLINE_POINTS = 4000;
