import { podContractTest } from './contract-test.js';

podContractTest('staging');
