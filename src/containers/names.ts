/**
 * containers/names: Docker-style random names ("adjective_surname") for
 * containers created without --name.
 */
import { randomInt } from 'node:crypto';

const LEFT = [
  'admiring', 'agitated', 'amazing', 'angry', 'awesome', 'blissful', 'bold', 'brave', 'busy', 'charming', 'clever',
  'compassionate', 'competent', 'confident', 'cool', 'dazzling', 'determined', 'eager', 'ecstatic', 'elastic', 'elated',
  'elegant', 'epic', 'exciting', 'fervent', 'festive', 'focused', 'friendly', 'frosty', 'funny', 'gallant', 'gifted',
  'goofy', 'gracious', 'happy', 'hopeful', 'hungry', 'inspiring', 'intelligent', 'jolly', 'keen', 'kind', 'laughing',
  'loving', 'lucid', 'magical', 'modest', 'musing', 'nice', 'nifty', 'nostalgic', 'objective', 'optimistic', 'peaceful',
  'pensive', 'practical', 'priceless', 'quirky', 'quizzical', 'relaxed', 'reverent', 'romantic', 'serene', 'sharp',
  'silly', 'sleepy', 'stoic', 'strange', 'sweet', 'tender', 'thirsty', 'trusting', 'upbeat', 'vibrant', 'vigilant',
  'wizardly', 'wonderful', 'xenodochial', 'youthful', 'zealous', 'zen',
];
const RIGHT = [
  'albattani', 'allen', 'archimedes', 'babbage', 'banach', 'bardeen', 'bartik', 'bell', 'bhabha', 'blackwell', 'bohr',
  'booth', 'borg', 'bose', 'brattain', 'carson', 'cerf', 'chandrasekhar', 'curie', 'darwin', 'dijkstra', 'einstein',
  'euclid', 'euler', 'faraday', 'fermat', 'fermi', 'feynman', 'franklin', 'galileo', 'gauss', 'goldberg', 'goodall',
  'hamilton', 'hawking', 'heisenberg', 'hopper', 'hypatia', 'jang', 'jennings', 'johnson', 'kalam', 'kepler', 'knuth',
  'lamarr', 'lamport', 'leakey', 'liskov', 'lovelace', 'mayer', 'mccarthy', 'mendel', 'meitner', 'morse', 'newton',
  'noether', 'pascal', 'pasteur', 'perlman', 'pike', 'poincare', 'ritchie', 'rosalind', 'sammet', 'shannon', 'shirley',
  'sinoussi', 'stonebraker', 'swanson', 'tesla', 'thompson', 'torvalds', 'turing', 'varahamihira', 'wiles', 'wilson',
  'wozniak', 'wright', 'yalow', 'yonath',
];

export function randomName(retry: number): string {
  const name = `${LEFT[randomInt(LEFT.length)]}_${RIGHT[randomInt(RIGHT.length)]}`;
  return retry > 0 ? `${name}${randomInt(10)}` : name;
}
