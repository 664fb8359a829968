import { podContractTest } from './contract-test.js';

podContractTest('dev');
