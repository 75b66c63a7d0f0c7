"""Video-protection within the law: habilitations, view sessions, the register, retention.

Beffroi stores no video: the video management system (VMS) does. Beffroi is its control
plane and its legal memory (docs/video.md).
"""
