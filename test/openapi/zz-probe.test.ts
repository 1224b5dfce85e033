import { test } from 'vitest';
import { testApp } from '../helpers/app.js';
import { npyFile, npyWithHeader } from '../helpers/npy.js';
test('probe', async () => {
  const app = await testApp({ memoryLimit: 2 ** 20, textBodyLimit: 1024 });
  const show = async (o: object) => { const r = await app.inject(o as never); console.log(r.statusCode, r.body); return r; };
  await show({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-npy' }, payload: npyWithHeader("{'descr': '<f8', 'fortran_order': False, }") });
  await show({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-npy' }, payload: npyFile('<f8', [2 ** 30], new Uint8Array(8)) });
  await show({ method: 'POST', url: '/v1/datasets', headers: { 'content-type': 'application/x-npy' }, payload: npyFile('<c16', [1], new Uint8Array(16)) });
  await show({ method: 'POST', url: '/v1/datasets', payload: { data: new Array(1000).fill(1) } });
  await show({ method: 'GET', url: '/v1/jobs?status=done' });
  const d = (await show({ method: 'POST', url: '/v1/datasets', payload: { data: [[1, 2, 3]] } })).json();
  await show({ method: 'POST', url: `/v1/datasets/${d.id}/jobs`, payload: { op: 'frobnicate' } });
  await show({ method: 'POST', url: `/v1/datasets/${d.id}/jobs`, payload: { op: 'cosine', params: { vector: [1] } } });
  await app.close();
});
