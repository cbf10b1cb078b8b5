/**
 * Point-cloud pool tasks: registration (Procrustes, or init + global FPFH + RANSAC + ICP
 * schedule) and the aligned source, run in a worker thread so that a 10^6-point ICP can be
 * interrupted at any moment and the main thread never runs a loop over every point.
 */
import type { Matrix } from '../../linalg/matrix.js';
import { icpRegistration, procrustesRegistration, type IcpParams, type ProcrustesParams, type Registration } from '../../points/registration.js';
import { applyTransform, rotateVectors } from '../../points/rigid.js';
import { icp, type IcpOptions, type IcpResult } from '../../points/icp.js';
import { register, type RegisterOptions, type RegisterResult } from '../../points/register.js';
import { defineTasks, taskProgress } from '../index.js';

export type AlignParams = ({ method: 'procrustes' } & ProcrustesParams) | ({ method: 'icp' } & IcpParams);

export interface AlignResult {
  registration: Registration;
  /** the source moved by the registration's transform */
  points: Matrix;
  /** the source's normals rotated likewise, when it has normals */
  normals?: Matrix;
}

export const tasks = defineTasks(import.meta.url, {
  /** the core ICP (library users, benchmarks) */
  icp(source: Matrix, target: Matrix, opts: IcpOptions): IcpResult {
    return icp(source, target, opts);
  },
  /** the core registration from any pose (library users, benchmarks) */
  register(source: Matrix, target: Matrix, opts: RegisterOptions): RegisterResult {
    return register(source, target, opts);
  },
  /** reports progress in ICP iterations (a global init counts as much as the ICP levels) */
  icpRegistration(source: Matrix, target: Matrix, p: IcpParams, targetNormals?: Matrix): Registration {
    return icpRegistration(source, target, p, targetNormals, taskProgress());
  },
  /** the registration of source onto target and the aligned source (points and normals) */
  align(source: Matrix, target: Matrix, p: AlignParams, targetNormals?: Matrix, sourceNormals?: Matrix): AlignResult {
    const registration = p.method === 'procrustes' ? procrustesRegistration(source, target, p) : icpRegistration(source, target, p, targetNormals, taskProgress());
    const points = applyTransform(registration.transform, source);
    return { registration, points, ...(sourceNormals ? { normals: rotateVectors(registration.transform, sourceNormals) } : {}) };
  },
});

/** Clouds this small (points of source + target) register inline: a thread hop would cost more. */
export const INLINE_POINTS = 4000;
