"""moto's service-model look-ups behind its errors are made once when threads ask at the same time."""

import threading
import time

import pytest

pytestmark = pytest.mark.integration


def test_threads_getting_their_first_error_at_once_look_the_model_up_once(aws, monkeypatch):
    from moto.core import utils

    from tiktok_sync_local.emulation.patches import ModelLookupsPatch

    patch = next(p for p in aws._patches if isinstance(p, ModelLookupsPatch))
    patch.original(utils, "service_name_from_moto_package_name").cache_clear()
    sessions = []
    real = utils.Session

    def slow_session(*args, **kwargs):  # a slow start, so that every thread arrives before it ends
        sessions.append(1)
        time.sleep(0.05)
        return real(*args, **kwargs)

    monkeypatch.setattr(utils, "Session", slow_session)
    answers = []
    threads = [threading.Thread(target=lambda: answers.append(utils.service_name_from_moto_package_name("dynamodb")))
               for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert answers == ["dynamodb"] * 6
    assert len(sessions) == 1


def test_moto_reads_its_models_with_one_loader(aws):
    from moto.core import utils

    assert utils.create_loader() is utils.create_loader()
    assert utils.get_service_model("s3").service_name == "s3"


def test_a_symmetric_kms_key_makes_no_private_key_until_one_is_used(aws, monkeypatch):
    from moto.kms import utils as kms_utils

    from tiktok_sync_local.emulation.patches import SymmetricKmsKeysPatch

    patch = next(p for p in aws._patches if isinstance(p, SymmetricKmsKeysPatch))
    made = []
    monkeypatch.setattr(kms_utils.RSAPrivateKey, "__init__",
                        lambda self, key_size, _init=kms_utils.RSAPrivateKey.__init__: made.append(key_size)
                        or _init(self, key_size))
    from moto.kms import models

    assert models.generate_private_key is not patch.original(models, "generate_private_key")
    kms = aws.client("kms")
    key = kms.create_key()["KeyMetadata"]["KeyId"]  # SYMMETRIC_DEFAULT, as the table's default key
    blob = kms.encrypt(KeyId=key, Plaintext=b"secret")["CiphertextBlob"]
    assert kms.decrypt(CiphertextBlob=blob)["Plaintext"] == b"secret"
    assert made == []
    signing = kms.create_key(KeySpec="RSA_2048", KeyUsage="SIGN_VERIFY")["KeyMetadata"]["KeyId"]
    assert made == [2048]  # an asymmetric key's is made at once, as moto does
    signature = kms.sign(KeyId=signing, Message=b"m", SigningAlgorithm="RSASSA_PSS_SHA_256")["Signature"]
    assert kms.verify(KeyId=signing, Message=b"m", Signature=signature,
                      SigningAlgorithm="RSASSA_PSS_SHA_256")["SignatureValid"]
