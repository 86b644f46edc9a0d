// Scenarios the browser tests build through the JSON editor.

/** Clients behind a least-outstanding balancer over three instances, one of them slow. */
export const BALANCED = {
  version: 1,
  name: 'Three instances behind a load balancer',
  seed: 7,
  duration: '60s',
  nodes: [
    {
      kind: 'client',
      id: 'clients',
      rate: 300,
      calls: [{ to: 'lb', timeout: '200ms', retry: { max_attempts: 3 }, budget: { aws_standard: {} }, breaker: 'hystrix' }],
    },
    { kind: 'load_balancer', id: 'lb', pool: ['api-0', 'api-1', 'api-2'], policy: 'least_outstanding' },
    { kind: 'service', id: 'api-0', workers: 4, service_time: { exponential: { mean: '40ms' } } },
    { kind: 'service', id: 'api-1', workers: 4, service_time: { exponential: { mean: '10ms' } } },
    { kind: 'service', id: 'api-2', workers: 4, service_time: { exponential: { mean: '10ms' } } },
  ],
  faults: [{ node: 'api-0', start: '20s', end: '30s', slowdown: 4 }],
};
