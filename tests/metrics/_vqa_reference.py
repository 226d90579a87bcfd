"""Reference: a loop-for-loop Python 3 transcription of the official VQA evaluation.

Transcribed from GT-Vision-Lab/VQA @a013f00 ``PythonEvaluationTools/vqaEvaluation/vqaEval.py``
(``VQAEval.evaluate``, ``processPunctuation``, ``processDigitArticle``, ``setAccuracy``), kept
deliberately close to the original (same loops, same dict-equality leave-one-out, same in-place
mutation of the ground truth, so callers pass a copy when they reuse the annotations; same regexes,
including the ``re.UNICODE``-as-count call). Only the Python 2 ``print`` statements and the progress bar are dropped, and ``acc_qa`` (the unrounded
per-question accuracies the script keeps in ``accQA``) is returned for per-question comparison.
It is the oracle of the differential tests and the baseline of the benchmark; it is not used by evalkit.
"""
import re

CONTRACTIONS = {"aint": "ain't", "arent": "aren't", "cant": "can't", "couldve": "could've", "couldnt": "couldn't", \
    "couldn'tve": "couldn't've", "couldnt've": "couldn't've", "didnt": "didn't", "doesnt": "doesn't", "dont": "don't", "hadnt": "hadn't", \
    "hadnt've": "hadn't've", "hadn'tve": "hadn't've", "hasnt": "hasn't", "havent": "haven't", "hed": "he'd", "hed've": "he'd've", \
    "he'dve": "he'd've", "hes": "he's", "howd": "how'd", "howll": "how'll", "hows": "how's", "Id've": "I'd've", "I'dve": "I'd've", \
    "Im": "I'm", "Ive": "I've", "isnt": "isn't", "itd": "it'd", "itd've": "it'd've", "it'dve": "it'd've", "itll": "it'll", "let's": "let's", \
    "maam": "ma'am", "mightnt": "mightn't", "mightnt've": "mightn't've", "mightn'tve": "mightn't've", "mightve": "might've", \
    "mustnt": "mustn't", "mustve": "must've", "neednt": "needn't", "notve": "not've", "oclock": "o'clock", "oughtnt": "oughtn't", \
    "ow's'at": "'ow's'at", "'ows'at": "'ow's'at", "'ow'sat": "'ow's'at", "shant": "shan't", "shed've": "she'd've", "she'dve": "she'd've", \
    "she's": "she's", "shouldve": "should've", "shouldnt": "shouldn't", "shouldnt've": "shouldn't've", "shouldn'tve": "shouldn't've", \
    "somebody'd": "somebodyd", "somebodyd've": "somebody'd've", "somebody'dve": "somebody'd've", "somebodyll": "somebody'll", \
    "somebodys": "somebody's", "someoned": "someone'd", "someoned've": "someone'd've", "someone'dve": "someone'd've", \
    "someonell": "someone'll", "someones": "someone's", "somethingd": "something'd", "somethingd've": "something'd've", \
    "something'dve": "something'd've", "somethingll": "something'll", "thats": "that's", "thered": "there'd", "thered've": "there'd've", \
    "there'dve": "there'd've", "therere": "there're", "theres": "there's", "theyd": "they'd", "theyd've": "they'd've", \
    "they'dve": "they'd've", "theyll": "they'll", "theyre": "they're", "theyve": "they've", "twas": "'twas", "wasnt": "wasn't", \
    "wed've": "we'd've", "we'dve": "we'd've", "weve": "we've", "werent": "weren't", "whatll": "what'll", "whatre": "what're", \
    "whats": "what's", "whatve": "what've", "whens": "when's", "whered": "where'd", "wheres": "where's", "whereve": "where've", \
    "whod": "who'd", "whod've": "who'd've", "who'dve": "who'd've", "wholl": "who'll", "whos": "who's", "whove": "who've", "whyll": "why'll", \
    "whyre": "why're", "whys": "why's", "wont": "won't", "wouldve": "would've", "wouldnt": "wouldn't", "wouldnt've": "wouldn't've", \
    "wouldn'tve": "wouldn't've", "yall": "y'all", "yall'll": "y'all'll", "y'allll": "y'all'll", "yall'd've": "y'all'd've", \
    "y'alld've": "y'all'd've", "y'all'dve": "y'all'd've", "youd": "you'd", "youd've": "you'd've", "you'dve": "you'd've", \
    "youll": "you'll", "youre": "you're", "youve": "you've"}
MANUAL_MAP = {'none': '0', 'zero': '0', 'one': '1', 'two': '2', 'three': '3', 'four': '4', 'five': '5',
              'six': '6', 'seven': '7', 'eight': '8', 'nine': '9', 'ten': '10'}
ARTICLES = ['a', 'an', 'the']
PERIOD_STRIP = re.compile("(?!<=\\d)(\\.)(?!\\d)")
COMMA_STRIP = re.compile("(\\d)(\\,)(\\d)")
PUNCT = [';', r"/", '[', ']', '"', '{', '}', '(', ')', '=', '+', '\\', '_', '-', '>', '<', '@', '`', ',', '?', '!']


def processPunctuation(inText):
    outText = inText
    for p in PUNCT:
        if (p + ' ' in inText or ' ' + p in inText) or (re.search(COMMA_STRIP, inText) != None):  # noqa: E711
            outText = outText.replace(p, '')
        else:
            outText = outText.replace(p, ' ')
    outText = PERIOD_STRIP.sub("", outText, re.UNICODE)
    return outText


def processDigitArticle(inText):
    manualMap = dict(MANUAL_MAP)
    outText = []
    tempText = inText.lower().split()
    for word in tempText:
        word = manualMap.setdefault(word, word)
        if word not in ARTICLES:
            outText.append(word)
        else:
            pass
    for wordId, word in enumerate(outText):
        if word in CONTRACTIONS:
            outText[wordId] = CONTRACTIONS[word]
    outText = ' '.join(outText)
    return outText


def evaluate(annotations, results, quesIds=None, n=2):
    """``VQA(annFile).loadRes(resFile)`` + ``VQAEval(vqa, vqaRes, n).evaluate(quesIds)``.

    ``annotations``: the ``annotations`` list of the official file; ``results``: ``[{question_id, answer}]``.
    Returns ``(accuracy, acc_qa, eval_qa)``: ``vqaEval.accuracy``, the unrounded ``accQA`` list in
    evaluation order and ``vqaEval.evalQA``.
    """
    qa = {ann['question_id']: ann for ann in annotations}  # VQA.createIndex: the answers are mutated in place
    annsQuesIds = [ann['question_id'] for ann in results]
    assert set(annsQuesIds) == set(ann['question_id'] for ann in annotations), \
        'Results do not correspond to current VQA set.'
    resQa = {ann['question_id']: ann for ann in results}
    if quesIds == None:  # noqa: E711
        quesIds = [ann['question_id'] for ann in annotations]
    gts = {}
    res = {}
    for quesId in quesIds:
        gts[quesId] = qa[quesId]
        res[quesId] = resQa[quesId]
    accQA = []
    accQuesType = {}
    accAnsType = {}
    evalQA = {}
    for quesId in quesIds:
        for ansDic in gts[quesId]['answers']:
            ansDic['answer'] = ansDic['answer'].replace('\n', ' ')
            ansDic['answer'] = ansDic['answer'].replace('\t', ' ')
            ansDic['answer'] = ansDic['answer'].strip()
        resAns = res[quesId]['answer']
        resAns = resAns.replace('\n', ' ')
        resAns = resAns.replace('\t', ' ')
        resAns = resAns.strip()
        gtAcc = []
        gtAnswers = [ans['answer'] for ans in gts[quesId]['answers']]

        if len(set(gtAnswers)) > 1:
            for ansDic in gts[quesId]['answers']:
                ansDic['answer'] = processPunctuation(ansDic['answer'])
                ansDic['answer'] = processDigitArticle(ansDic['answer'])
            resAns = processPunctuation(resAns)
            resAns = processDigitArticle(resAns)

        for gtAnsDatum in gts[quesId]['answers']:
            otherGTAns = [item for item in gts[quesId]['answers'] if item != gtAnsDatum]
            matchingAns = [item for item in otherGTAns if item['answer'] == resAns]
            acc = min(1, float(len(matchingAns)) / 3)
            gtAcc.append(acc)
        quesType = gts[quesId]['question_type']
        ansType = gts[quesId]['answer_type']
        avgGTAcc = float(sum(gtAcc)) / len(gtAcc)
        accQA.append(avgGTAcc)
        if quesType not in accQuesType:
            accQuesType[quesType] = []
        accQuesType[quesType].append(avgGTAcc)
        if ansType not in accAnsType:
            accAnsType[ansType] = []
        accAnsType[ansType].append(avgGTAcc)
        evalQA[quesId] = round(100 * avgGTAcc, n)

    accuracy = {}
    accuracy['overall'] = round(100 * float(sum(accQA)) / len(accQA), n)
    accuracy['perQuestionType'] = {quesType: round(100 * float(sum(accQuesType[quesType])) / len(accQuesType[quesType]), n) for quesType in accQuesType}
    accuracy['perAnswerType'] = {ansType: round(100 * float(sum(accAnsType[ansType])) / len(accAnsType[ansType]), n) for ansType in accAnsType}
    return accuracy, accQA, evalQA
